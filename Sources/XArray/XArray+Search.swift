// SPDX-License-Identifier: Apache-2.0
// Index-level searches. An index is present when an entry covers it.

extension XArray {
  /// The smallest present index in `start...end` (carrying `mark`, if
  /// given), like `xa_find`.
  @inlinable
  public func firstIndex(
    from start: UInt64 = 0, through end: UInt64 = .max, marked mark: XArrayMark? = nil
  ) -> UInt64? {
    var best = _main.next(from: start, mark: mark)?.key
    if let r = _ranges {
      var cand: UInt64?
      if let p = r.previous(through: start, mark: mark), r.value(at: p).last(p.key) >= start {
        cand = start
      } else {
        cand = r.next(from: start, mark: mark)?.key
      }
      if let c = cand, best.map({ c < $0 }) ?? true { best = c }
    }
    guard let b = best, b <= end else { return nil }
    return b
  }

  /// The largest present index in `start...end` (carrying `mark`, if given).
  @inlinable
  public func lastIndex(
    through end: UInt64 = .max, from start: UInt64 = 0, marked mark: XArrayMark? = nil
  ) -> UInt64? {
    var best = _main.previous(through: end, mark: mark)?.key
    if let r = _ranges, let p = r.previous(through: end, mark: mark) {
      let c = Swift.min(r.value(at: p).last(p.key), end)
      if best.map({ c > $0 }) ?? true { best = c }
    }
    guard let b = best, b >= start else { return nil }
    return b
  }

  /// The smallest present index above `index` (`xa_find_after`).
  @inlinable
  public func nextIndex(after index: UInt64, marked mark: XArrayMark? = nil) -> UInt64? {
    index == .max ? nil : firstIndex(from: index &+ 1, marked: mark)
  }

  /// The largest present index below `index`.
  @inlinable
  public func previousIndex(before index: UInt64, marked mark: XArrayMark? = nil) -> UInt64? {
    index == 0 ? nil : lastIndex(through: index &- 1, marked: mark)
  }

  /// The smallest index in `range` that no entry covers, or nil when the
  /// range is full.
  public func firstFreeIndex(in range: ClosedRange<UInt64>) -> UInt64? {
    var cand = range.lowerBound
    while true {
      guard let c = _main.firstAbsent(from: cand), c <= range.upperBound else { return nil }
      guard let s = _rangeStart(covering: c), let p = _ranges?.find(s) else { return c }
      let last = p.pointee.last(s)
      if last >= range.upperBound { return nil }
      cand = last &+ 1
    }
  }

  /// Stores `element` at the first free index of `range` (`xa_alloc`).
  ///
  /// - Returns: the index used, or nil when the range is full.
  @discardableResult
  public mutating func allocate(_ element: Value, in range: ClosedRange<UInt64>) -> UInt64? {
    guard let i = firstFreeIndex(in: range) else { return nil }
    _makeUnique()
    _main.store(i, element)
    return i
  }
}

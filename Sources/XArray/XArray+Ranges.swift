// SPDX-License-Identifier: Apache-2.0
// Range (multi-index) entries.

extension XArray {
  /// Stores `element` as one entry covering the aligned block of
  /// `2^order` indices that contains `index` (`xa_store_order`).
  ///
  /// Every entry overlapping the block is removed first, marks included.
  /// `order` is 0...64; 0 stores a single index, 64 covers every index.
  public mutating func store(_ element: Value, order: Int, at index: UInt64) {
    precondition((0...64).contains(order), "XArray order must be in 0...64, got \(order)")
    let mask: UInt64 = order >= 64 ? .max : (1 << UInt64(order)) &- 1
    let first = index & ~mask
    let last = first | mask
    _removeOverlapping(first, last)
    if order == 0 {
      _makeUnique()
      _main.store(first, element)
    } else {
      _uniqueRanges().store(first, _RangeEntry(order: UInt8(order), element: element))
    }
  }

  /// Stores `element` over every index of `range`, as the fewest aligned
  /// range entries that cover it exactly (`xa_store_range`).
  public mutating func store(_ element: Value, in range: ClosedRange<UInt64>) {
    var a = range.lowerBound
    let b = range.upperBound
    while true {
      var k = a == 0 ? 64 : a.trailingZeroBitCount
      while k > 0 {
        let end: UInt64 = k >= 64 ? .max : a | ((1 << UInt64(k)) &- 1)
        if end <= b { break }
        k -= 1
      }
      store(element, order: k, at: a)
      let end: UInt64 = k >= 64 ? .max : a | ((1 << UInt64(k)) &- 1)
      if end >= b { return }
      a = end &+ 1
    }
  }

  /// Removes every entry with an index in `first...last`.
  @usableFromInline mutating func _removeOverlapping(_ first: UInt64, _ last: UInt64) {
    if let p = _main.next(from: first, mark: nil), p.key <= last {
      _makeUnique()
      var from = first
      while let q = _main.next(from: from, mark: nil), q.key <= last {
        _main.remove(q.key)
        if q.key == .max { break }
        from = q.key &+ 1
      }
    }
    guard _ranges != nil else { return }
    if let s = _rangeStart(covering: first) {
      _uniqueRanges().remove(s)
    }
    if let r = _ranges, let p = r.next(from: first, mark: nil), p.key <= last {
      let u = _uniqueRanges()
      var from = first
      while let q = u.next(from: from, mark: nil), q.key <= last {
        u.remove(q.key)
        if q.key == .max { break }
        from = q.key &+ 1
      }
    }
    if _ranges?.count == 0 { _ranges = nil }
  }

  /// The indices covered by the entry at `index`: `index...index` for a
  /// single entry, the whole block for a range entry; nil when absent.
  public func range(at index: UInt64) -> ClosedRange<UInt64>? {
    if _main.find(index) != nil { return index...index }
    guard let s = _rangeStart(covering: index), let p = _ranges?.find(s) else { return nil }
    return s...p.pointee.last(s)
  }

  /// The order of the entry at `index` (0 for a single index), or nil.
  public func order(at index: UInt64) -> Int? {
    if _main.find(index) != nil { return 0 }
    guard let s = _rangeStart(covering: index), let p = _ranges?.find(s) else { return nil }
    return Int(p.pointee.order)
  }
}

// SPDX-License-Identifier: Apache-2.0
// Marks: three flags per entry.

extension XArray {
  /// Sets `mark` on the entry covering `index` (`xa_set_mark`).
  ///
  /// - Returns: false when no entry covers `index` (nothing is marked).
  @inlinable @discardableResult
  public mutating func setMark(_ mark: XArrayMark, at index: UInt64) -> Bool {
    _setMark(mark.rawValue, at: index, true)
  }

  /// Clears `mark` on the entry covering `index` (`xa_clear_mark`).
  @inlinable
  public mutating func clearMark(_ mark: XArrayMark, at index: UInt64) {
    _ = _setMark(mark.rawValue, at: index, false)
  }

  @inlinable mutating func _setMark(_ m: Int, at index: UInt64, _ on: Bool) -> Bool {
    if _main.find(index) != nil {
      _makeUnique()
      return _main.setMark(m, at: index, on)
    }
    guard _ranges != nil, let s = _rangeStart(covering: index) else { return false }
    return _uniqueRanges().setMark(m, at: s, on)
  }

  /// Whether the entry covering `index` has `mark` (`xa_get_mark`).
  @inlinable
  public func isMarked(_ mark: XArrayMark, at index: UInt64) -> Bool {
    marks(at: index)?.contains(mark) ?? false
  }

  /// The marks of the entry covering `index`, or nil when absent.
  @inlinable
  public func marks(at index: UInt64) -> XArrayMarks? {
    if let m = _main.marks(at: index) { return XArrayMarks(rawValue: m) }
    guard _ranges != nil, let s = _rangeStart(covering: index), let m = _ranges?.marks(at: s)
    else { return nil }
    return XArrayMarks(rawValue: m)
  }

  /// Clears `mark` on every entry.
  public mutating func clearMark(_ mark: XArrayMark) {
    var from: UInt64 = 0
    while let i = firstIndex(from: from, marked: mark) {
      clearMark(mark, at: i)
      guard let end = range(at: i)?.upperBound, end < .max else { return }
      from = end + 1
    }
  }
}

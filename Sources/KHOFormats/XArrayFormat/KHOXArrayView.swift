// SPDX-License-Identifier: Apache-2.0
import KHOCore
import XArray

/// Read access shared by the zero-copy views of kho-xarray-v1 and -v2.
///
/// Opening a view validates every pointer of the preserved tree once
/// (alignment, capture, cycles, depth, and for v2 kinds, counts and
/// checksums) and keeps page handles; after that, lookups touch only the
/// pages on the key's path and cannot fail.
public protocol KHOXArrayReading {
  /// The number of entries (a range entry counts once).
  var count: Int { get }
  /// The value stored at `index` (the range entry covering it, if any).
  func load(_ index: UInt64) -> UInt64?
  /// The smallest present index >= `index` (carrying `mark`, if given).
  func firstIndex(from index: UInt64, marked mark: XArrayMark?) -> UInt64?
  /// The largest present index <= `index` (carrying `mark`, if given).
  func lastIndex(through index: UInt64, marked mark: XArrayMark?) -> UInt64?
  /// Every entry that covers an index >= `index` (carrying `mark`, if
  /// given), in index order, with its first index, order and marks.
  func entries(from index: UInt64, marked mark: XArrayMark?) -> [XArrayEntry<UInt64>]
}

extension KHOXArrayReading {
  /// The entries as an in-memory `XArray`.
  public func makeXArray() -> XArray<UInt64> {
    var x = XArray<UInt64>()
    for e in entries(from: 0, marked: nil) {
      if e.order == 0 { x[e.index] = e.element } else { x.store(e.element, order: e.order, at: e.index) }
      for m in XArrayMark.all where e.marks.contains(m) { x.setMark(m, at: e.index) }
    }
    return x
  }
}

extension _ShadowTree {
  func firstIndex(from index: UInt64, marked mark: XArrayMark?) -> UInt64? {
    next(from: index, mark: mark).map { Swift.max($0.first, index) }
  }

  func lastIndex(through index: UInt64, marked mark: XArrayMark?) -> UInt64? {
    previous(through: index, mark: mark).map { Swift.min($0.last, index) }
  }

  func entries(from index: UInt64, marked mark: XArrayMark?) -> [XArrayEntry<UInt64>] {
    var out: [XArrayEntry<UInt64>] = []
    var at = index
    while let h = next(from: at, mark: mark) {
      let order = h.last == h.first ? 0 : 64 - (h.last - h.first).leadingZeroBitCount
      let e = XArrayEntry(
        index: h.first, order: order, element: h.value,
        marks: XArrayMarks(rawValue: h.marks))
      out.append(e)
      if h.last == .max { break }
      at = h.last + 1
    }
    return out
  }
}

// SPDX-License-Identifier: Apache-2.0
/// A sparse array keyed by `UInt64`, with the semantics of Linux's xarray.
///
/// An `XArray` maps indices to elements. It stores, loads and erases single
/// indices; stores aligned ranges of `2^order` indices as one entry
/// (multi-index entries); keeps three marks per entry with fast marked
/// searches; iterates in index order forwards and backwards from any index;
/// finds the next or previous present, marked or free index.
///
///     var pages = XArray<UInt64>()
///     pages[0x40] = 0x1_2345                 // store
///     pages.store(0x2_0000, order: 9, at: 0x200) // 512 indices, one entry
///     pages[0x3ff]                           // 0x20000
///     pages.setMark(.mark0, at: 0x40)
///     pages.firstIndex(from: 0, marked: .mark0) // 0x40
///     for (index, pfn) in pages { … }        // (0x40, …), (0x200, …)
///
/// It is a value type with copy-on-write, like the standard collections.
///
/// The layout adapts to density: runs of nearby keys live in 64-key blocks
/// with packed values (about 8.5 bytes per `UInt64` entry when dense), and
/// sparse keys in sorted buckets of up to 64 entries that span whole
/// subtrees (about 14.5 bytes per entry for random 48-bit keys), under a
/// 64-way radix tree whose height fits the largest key.
///
/// Range entries: storing an element at any index of a range entry replaces
/// the element of the whole range; erasing any index of it erases the whole
/// range; marks apply to the whole range. Storing a range removes every
/// entry that overlaps it. Iteration reports each entry once, at the first
/// of its indices in the iterated interval.
@frozen
public struct XArray<Value> {
  /// Single-index entries.
  @usableFromInline var _main: _Tree<Value>
  /// Range entries (order >= 1), keyed by their first index; nil when none.
  @usableFromInline var _ranges: _Tree<_RangeEntry<Value>>?

  /// An empty array.
  @inlinable public init() {
    _main = _Tree()
    _ranges = nil
  }

  @inlinable mutating func _makeUnique() {
    if !isKnownUniquelyReferenced(&_main) { _main = _main.copy() }
  }

  @inlinable mutating func _uniqueRanges() -> _Tree<_RangeEntry<Value>> {
    if let r = _ranges {
      if isKnownUniquelyReferenced(&_ranges) { return r }
      let c = r.copy()
      _ranges = c
      return c
    }
    let r = _Tree<_RangeEntry<Value>>()
    _ranges = r
    return r
  }

  /// The first index of the range entry covering `index`, if any.
  @inlinable func _rangeStart(covering index: UInt64) -> UInt64? {
    guard let r = _ranges, let p = r.previous(through: index, mark: nil) else { return nil }
    let node = p.node
    let order =
      node.kind == _kindLeaf
      ? _Leaf<_RangeEntry<Value>>(node).values[p.index].order
      : _Bucket<_RangeEntry<Value>>(node).values[p.index].order
    let last = order >= 64 ? UInt64.max : p.key | ((1 &<< UInt64(order)) &- 1)
    return last >= index ? p.key : nil
  }

  // MARK: Size

  /// The number of entries; a range entry counts once.
  @inlinable public var count: Int { _main.count &+ (_ranges?.count ?? 0) }

  /// Whether there are no entries.
  @inlinable public var isEmpty: Bool { count == 0 }

  /// Bytes of heap memory the array uses (nodes and bookkeeping, as malloc
  /// chunks), not counting memory owned by the elements themselves.
  public var memoryUsed: Int {
    _mallocFootprint(48) &+ _main.bytes &+ (_ranges.map { _mallocFootprint(48) &+ $0.bytes } ?? 0)
  }

  // MARK: Load and store

  /// The element at `index`, or nil. Setting nil erases.
  @inlinable public subscript(index: UInt64) -> Value? {
    get { load(at: index) }
    set {
      if let v = newValue { store(v, at: index) } else { erase(at: index) }
    }
  }

  /// The element at `index` (the range entry covering it, if any), or nil.
  @inlinable public func load(at index: UInt64) -> Value? {
    if let p = _main.find(index) { return p.pointee }
    guard _ranges != nil, let s = _rangeStart(covering: index), let p = _ranges?.find(s) else {
      return nil
    }
    return p.pointee.element
  }

  /// Whether an entry covers `index`.
  @inlinable public func contains(_ index: UInt64) -> Bool {
    _main.find(index) != nil || (_ranges != nil && _rangeStart(covering: index) != nil)
  }

  /// Stores `element` at `index`; returns the element it replaced.
  ///
  /// An entry already there keeps its marks. When a range entry covers
  /// `index`, its element is replaced for the whole range.
  @inlinable @discardableResult
  public mutating func store(_ element: Value, at index: UInt64) -> Value? {
    if _ranges != nil, let s = _rangeStart(covering: index) {
      guard let p = _uniqueRanges().find(s) else { return nil }
      let old = p.pointee.element
      p.pointee.element = element
      return old
    }
    _makeUnique()
    return _main.store(index, element)
  }

  /// Erases the entry covering `index` (a whole range entry, if it is one);
  /// returns its element.
  @inlinable @discardableResult
  public mutating func erase(at index: UInt64) -> Value? {
    if _main.find(index) != nil {
      _makeUnique()
      return _main.remove(index)
    }
    guard _ranges != nil, let s = _rangeStart(covering: index) else { return nil }
    let r = _uniqueRanges()
    let v = r.remove(s)?.element
    if r.count == 0 { _ranges = nil }
    return v
  }

  /// Stores `element` at `index` only if no entry covers it (`xa_insert`).
  ///
  /// - Returns: true when stored, false when `index` was occupied.
  @inlinable @discardableResult
  public mutating func insert(_ element: Value, at index: UInt64) -> Bool {
    if contains(index) { return false }
    _makeUnique()
    _main.store(index, element)
    return true
  }

  /// Removes every entry.
  public mutating func removeAll() {
    self = XArray()
  }
}

extension XArray where Value: Equatable {
  /// Replaces the entry at `index` with `desired` if it currently holds
  /// `expected` (`xa_cmpxchg`); nil means "absent" on either side.
  ///
  /// - Returns: whether the exchange happened, and the element found.
  @inlinable @discardableResult
  public mutating func compareExchange(
    at index: UInt64, expected: Value?, desired: Value?
  ) -> (exchanged: Bool, original: Value?) {
    let current = load(at: index)
    guard current == expected else { return (false, current) }
    if let d = desired {
      store(d, at: index)
    } else {
      erase(at: index)
    }
    return (true, current)
  }
}

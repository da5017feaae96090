// SPDX-License-Identifier: Apache-2.0
// Iteration: forward from any index, backward from any index, marked.

extension XArray: Sequence {
  /// Iterates entries in index order, each once at its first index.
  @frozen
  public struct Iterator: IteratorProtocol {
    @usableFromInline var _main: _Cursor<Value>
    @usableFromInline var _ranges: _Cursor<_RangeEntry<Value>>?
    /// A range entry that began before the start index.
    @usableFromInline var _pending: (UInt64, Value)?

    @inlinable init(_ x: XArray, from start: UInt64) {
      _main = _Cursor(x._main, from: start)
      if let r = x._ranges {
        _ranges = _Cursor(r, from: start)
        if let p = r.previous(through: start, mark: nil), p.key < start {
          let e = r.value(at: p)
          if e.last(p.key) >= start { _pending = (start, e.element) }
        }
      }
    }

    @inlinable
    public mutating func next() -> (index: UInt64, element: Value)? {
      if let p = _pending {
        _pending = nil
        return (p.0, p.1)
      }
      guard _ranges != nil else {
        guard let (k, v) = _main.next() else { return nil }
        return (k, v)
      }
      let a = _main.peekKey()
      let b = _ranges?.peekKey()
      switch (a, b) {
      case (nil, nil):
        return nil
      case (.some(let ka), .some(let kb)) where ka < kb:
        guard let (k, v) = _main.next() else { return nil }
        return (k, v)
      case (.some, nil):
        guard let (k, v) = _main.next() else { return nil }
        return (k, v)
      default:
        guard let (k, v) = _ranges?.next() else { return nil }
        return (k, v.element)
      }
    }
  }

  @inlinable public func makeIterator() -> Iterator { Iterator(self, from: 0) }

  @inlinable public var underestimatedCount: Int { count }

  /// The entries from `index` on, in index order. A range entry covering
  /// `index` is reported at `index`.
  @inlinable public func entries(from index: UInt64) -> Entries { Entries(base: self, start: index) }

  /// The entries at or below `index`, in descending index order; each is
  /// reported at its first index.
  public func entries(reversedFrom index: UInt64 = .max) -> ReversedEntries {
    ReversedEntries(base: self, start: index)
  }

  /// The entries carrying `mark`, from `index` on, in index order (`xa_for_each_marked`).
  public func entries(marked mark: XArrayMark, from index: UInt64 = 0) -> MarkedEntries {
    MarkedEntries(base: self, mark: mark, start: index)
  }

  /// Forward entries from a start index.
  public struct Entries: Sequence {
    @usableFromInline let base: XArray
    @usableFromInline let start: UInt64
    @inlinable init(base: XArray, start: UInt64) {
      self.base = base
      self.start = start
    }
    @inlinable public func makeIterator() -> Iterator { Iterator(base, from: start) }
  }

  /// Backward entries from a start index.
  public struct ReversedEntries: Sequence, IteratorProtocol {
    let base: XArray
    var cursor: UInt64?
    init(base: XArray, start: UInt64) {
      self.base = base
      self.cursor = start
    }

    public mutating func next() -> (index: UInt64, element: Value)? {
      guard let at = cursor else { return nil }
      var best: (UInt64, Value)?
      if let p = base._main.previous(through: at, mark: nil) {
        best = (p.key, base._main.value(at: p))
      }
      if let r = base._ranges, let p = r.previous(through: at, mark: nil) {
        if best.map({ p.key > $0.0 }) ?? true { best = (p.key, r.value(at: p).element) }
      }
      guard let b = best else {
        cursor = nil
        return nil
      }
      cursor = b.0 == 0 ? nil : b.0 - 1
      return (b.0, b.1)
    }
  }

  /// Marked entries from a start index.
  public struct MarkedEntries: Sequence, IteratorProtocol {
    let base: XArray
    let mark: XArrayMark
    var cursor: UInt64?
    init(base: XArray, mark: XArrayMark, start: UInt64) {
      self.base = base
      self.mark = mark
      self.cursor = start
    }

    public mutating func next() -> (index: UInt64, element: Value)? {
      guard let at = cursor, let i = base.firstIndex(from: at, marked: mark),
        let v = base.load(at: i), let r = base.range(at: i)
      else {
        cursor = nil
        return nil
      }
      cursor = r.upperBound == .max ? nil : r.upperBound + 1
      return (i, v)
    }
  }

  /// Calls `body` with every entry, in index order, with its order and marks.
  public func forEachEntry<E: Error>(_ body: (XArrayEntry<Value>) throws(E) -> Void) throws(E) {
    var it = _EntryIterator(self)
    while let e = it.next() { try body(e) }
  }

  /// Every entry with its order and marks, in index order.
  public var allEntries: [XArrayEntry<Value>] {
    var out: [XArrayEntry<Value>] = []
    out.reserveCapacity(count)
    forEachEntry { out.append($0) }
    return out
  }
}

/// Entries with order and marks, merged from both trees.
struct _EntryIterator<Value>: IteratorProtocol {
  var main: _Cursor<Value>
  var ranges: _Cursor<_RangeEntry<Value>>?
  let x: XArray<Value>

  init(_ x: XArray<Value>) {
    self.x = x
    main = _Cursor(x._main, from: 0)
    ranges = x._ranges.map { _Cursor($0, from: 0) }
  }

  mutating func next() -> XArrayEntry<Value>? {
    let a = main.peekKey()
    let b = ranges?.peekKey()
    if let ka = a, b.map({ ka < $0 }) ?? true {
      guard let (k, v) = main.next() else { return nil }
      return XArrayEntry(
        index: k, element: v, marks: XArrayMarks(rawValue: x._main.marks(at: k) ?? 0))
    }
    guard b != nil, let (k, v) = ranges?.next() else { return nil }
    let m = x._ranges?.marks(at: k) ?? 0
    return XArrayEntry(
      index: k, order: Int(v.order), element: v.element, marks: XArrayMarks(rawValue: m))
  }
}

// SPDX-License-Identifier: Apache-2.0
// Ordered searches: next and previous present (or marked) key, first
// absent key. Recursion depth is at most 11 (64 bits in steps of 6).

/// Where an entry lives: its key, its node (leaf or bucket) and the
/// position of its value in that node.
@frozen @usableFromInline
struct _Position {
  @usableFromInline var key: UInt64
  @usableFromInline var node: _Ref
  @usableFromInline var index: Int

  @inlinable init(key: UInt64, node: _Ref, index: Int) {
    self.key = key
    self.node = node
    self.index = index
  }
}

/// The mark number `nextBelow` and `previousBelow` take for "any entry".
@inlinable var _anyMark: Int { -1 }

extension _Tree {
  /// The value of the entry at a position.
  @inlinable func value(at p: _Position) -> V {
    p.node.kind == _kindLeaf ? _Leaf<V>(p.node).values[p.index] : _Bucket<V>(p.node).values[p.index]
  }

  /// The shift-6 branch whose subtree holds `key`, or none.
  @inlinable func leafParent(of key: UInt64) -> _Ref {
    guard covers(key) else { return .none }
    var ref = root
    var shift = rootShift
    while ref.kind == _kindBranch {
      if shift == 6 { return ref }
      ref = _Branch(ref).slot(Int(truncatingIfNeeded: (key &>> UInt64(truncatingIfNeeded: shift)) & 63))
      shift &-= 6
    }
    return .none
  }

  /// The first entry with key >= `a` (with `mark`, if given).
  @inlinable func next(from a: UInt64, mark: XArrayMark?) -> _Position? {
    guard !root.isNone, covers(a) else { return nil }
    return nextBelow(root, a, mark?.rawValue ?? _anyMark)
  }

  /// The last entry with key <= `a` (with `mark`, if given).
  @inlinable func previous(through a: UInt64, mark: XArrayMark?) -> _Position? {
    guard !root.isNone else { return nil }
    return previousBelow(root, covers(a) ? a : rootEnd, mark?.rawValue ?? _anyMark)
  }

  /// `next(from:mark:)` below `ref`; `m` is the mark's number, or
  /// `_anyMark`, resolved once by the caller so that each level tests an
  /// integer.
  @inlinable func nextBelow(_ ref: _Ref, _ a: UInt64, _ m: Int) -> _Position? {
    switch ref.kind {
    case _kindBranch:
      let b = _Branch(ref)
      let s = UInt64(b.shift)
      let i = Int(truncatingIfNeeded: (a &>> s) & 63)
      var bits = (m == _anyMark ? b.present : b.marks(m)) & ~_below(i)
      let base = a & ~Self.lowMask(b.shift &+ 6)
      var prev = _Ref.none
      while bits != 0 {
        let j = bits.trailingZeroBitCount
        bits &= bits &- 1
        let c = b.slot(j)
        if c == prev { continue }
        prev = c
        let start = j == i ? a : base | (UInt64(j) &<< s)
        if let r = nextBelow(c, start, m) { return r }
      }
      return nil
    case _kindLeaf:
      let l = _Leaf<V>(ref)
      let bit = Int(truncatingIfNeeded: a & 63)
      let bm = l.bitmap
      let w = (m == _anyMark ? bm : l.marks(m)) & ~_below(bit)
      if w == 0 { return nil }
      let j = w.trailingZeroBitCount
      return _Position(
        key: (a & ~63) | UInt64(j), node: ref, index: (bm & _below(j)).nonzeroBitCount)
    case _kindBucket:
      let b = _Bucket<V>(ref)
      let pos = b.lowerBound(a)
      if pos >= b.count { return nil }
      if m == _anyMark { return _Position(key: b.key(pos), node: ref, index: pos) }
      let w = b.marks(m) & ~_below(pos)
      if w == 0 { return nil }
      let j = w.trailingZeroBitCount
      return _Position(key: b.key(j), node: ref, index: j)
    default:
      return nil
    }
  }

  /// `previous(through:mark:)` below `ref`; `m` as in `nextBelow`.
  @inlinable func previousBelow(_ ref: _Ref, _ a: UInt64, _ m: Int) -> _Position? {
    switch ref.kind {
    case _kindBranch:
      let b = _Branch(ref)
      let s = UInt64(b.shift)
      let i = Int(truncatingIfNeeded: (a &>> s) & 63)
      let upTo: UInt64 = i == 63 ? .max : _below(i &+ 1)
      var bits = (m == _anyMark ? b.present : b.marks(m)) & upTo
      let base = a & ~Self.lowMask(b.shift &+ 6)
      var prev = _Ref.none
      while bits != 0 {
        let j = 63 &- bits.leadingZeroBitCount
        bits &= ~(1 &<< UInt64(j))
        let c = b.slot(j)
        if c == prev { continue }
        prev = c
        let start = j == i ? a : base | (UInt64(j) &<< s) | Self.lowMask(b.shift)
        if let r = previousBelow(c, start, m) { return r }
      }
      return nil
    case _kindLeaf:
      let l = _Leaf<V>(ref)
      let bit = Int(truncatingIfNeeded: a & 63)
      let bm = l.bitmap
      let upTo: UInt64 = bit == 63 ? .max : _below(bit &+ 1)
      let w = (m == _anyMark ? bm : l.marks(m)) & upTo
      if w == 0 { return nil }
      let j = 63 &- w.leadingZeroBitCount
      return _Position(
        key: (a & ~63) | UInt64(j), node: ref, index: (bm & _below(j)).nonzeroBitCount)
    case _kindBucket:
      let b = _Bucket<V>(ref)
      let pos = b.upperPosition(a)
      if pos < 0 { return nil }
      if m == _anyMark { return _Position(key: b.key(pos), node: ref, index: pos) }
      let upTo: UInt64 = pos == 63 ? .max : _below(pos &+ 1)
      let w = b.marks(m) & upTo
      if w == 0 { return nil }
      let j = 63 &- w.leadingZeroBitCount
      return _Position(key: b.key(j), node: ref, index: j)
    default:
      return nil
    }
  }

  /// The first key >= `a` with no entry, or nil if every key from `a` on
  /// has one.
  @inlinable func firstAbsent(from a: UInt64) -> UInt64? {
    if root.isNone || !covers(a) { return a }
    if let r = absentBelow(root, a, rootEnd) { return r }
    return rootEnd == .max ? nil : rootEnd &+ 1
  }

  @inlinable func absentBelow(_ ref: _Ref, _ a: UInt64, _ end: UInt64) -> UInt64? {
    switch ref.kind {
    case _kindBranch:
      let b = _Branch(ref)
      let s = UInt64(b.shift)
      let i = Int(truncatingIfNeeded: (a &>> s) & 63)
      let base = a & ~Self.lowMask(b.shift &+ 6)
      var j = i
      let top = _lastSlot(b.shift)
      while j <= top {
        let slotBase = base | (UInt64(j) &<< s)
        let start = j == i ? a : slotBase
        let c = b.slot(j)
        if c.isNone { return start }
        if let r = absentBelow(c, start, slotBase | Self.lowMask(b.shift)) { return r }
        j &+= 1
      }
      return nil
    case _kindLeaf:
      let w = ~_Leaf<V>(ref).bitmap & ~_below(Int(truncatingIfNeeded: a & 63))
      return w == 0 ? nil : (a & ~63) | UInt64(w.trailingZeroBitCount)
    case _kindBucket:
      let b = _Bucket<V>(ref)
      var pos = b.lowerBound(a)
      var cand = a
      while pos < b.count && b.key(pos) == cand {
        if cand == end { return nil }
        cand &+= 1
        pos &+= 1
      }
      return cand
    default:
      return a
    }
  }
}

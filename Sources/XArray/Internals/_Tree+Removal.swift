// SPDX-License-Identifier: Apache-2.0
// Removal and marks: recursive, so that each branch on the path can fix its
// present and mark summary bits on the way back up.

extension _Tree {
  /// Removes the entry at `key`; returns its value.
  @inlinable @discardableResult
  func remove(_ key: UInt64) -> V? {
    defer { _checkInvariants() }
    guard !root.isNone, covers(key) else { return nil }
    guard let (v, empty) = removeBelow(root, key, parent: nil, slot: 0) else { return nil }
    count &-= 1
    if empty {
      freeEmpty(root)
      root = .none
      rootShift = 0
    } else {
      shrink()
    }
    return v
  }

  /// Lowers the root while it is a branch with only slot 0 in use.
  @inlinable func shrink() {
    while root.kind == _kindBranch {
      let b = _Branch(root)
      guard b.present == 1 else { return }
      root = b.slot(0)
      rootShift = b.shift &- 6
      freeBranch(b)
      if root.kind == _kindBucket { return }
    }
  }

  /// Frees a node that holds no entry any more.
  @inlinable func freeEmpty(_ r: _Ref) {
    switch r.kind {
    case _kindBranch: freeBranch(_Branch(r))
    // A leaf empties from one entry, the count it was allocated for.
    case _kindLeaf: freeLeaf(_Leaf(r), entries: 1)
    case _kindBucket: freeBucket(_Bucket(r))
    default: break
    }
  }

  /// Removes `key` below `ref` (in slot `slot` of `parent`, or the root):
  /// the value and whether `ref` is now empty. A leaf that shrinks is
  /// replaced in its parent.
  @inlinable func removeBelow(_ ref: _Ref, _ key: UInt64, parent: _Branch?, slot: Int) -> (V, Bool)? {
    switch ref.kind {
    case _kindBranch:
      let b = _Branch(ref)
      let i = Int(truncatingIfNeeded: (key &>> UInt64(b.shift)) & 63)
      let c = b.slot(i)
      if c.isNone { return nil }
      guard let (v, childEmpty) = removeBelow(c, key, parent: b, slot: i) else { return nil }
      let (lo, hi) = b.span(i)
      if childEmpty {
        freeEmpty(c)
        b.fill(lo, hi, .none, marks: 0)
      } else {
        let now = b.slot(i)
        b.fill(lo, hi, now, marks: anyMarks(now))
      }
      return (v, b.present == 0)
    case _kindLeaf:
      let l = _Leaf<V>(ref)
      let bit = Int(truncatingIfNeeded: key & 63)
      let bm = l.bitmap
      guard (bm &>> UInt64(bit)) & 1 != 0 else { return nil }
      let idx = (bm & _below(bit)).nonzeroBitCount
      let n = bm.nonzeroBitCount
      let vals = l.values
      let v = (vals + idx).move()
      if idx &+ 1 < n { (vals + idx).moveInitialize(from: vals + (idx &+ 1), count: n &- idx &- 1) }
      let clear = ~(1 &<< UInt64(bit))
      l.bitmap = bm & clear
      for m in 0..<3 { l.setMarks(m, l.marks(m) & clear) }
      // Keep the allocation at the capacity the count implies.
      if n > 1 && _Layout<V>.leafCapacity(for: n &- 1) < _Layout<V>.leafCapacity(for: n) {
        let g = reallocated(l, from: n, for: n &- 1, marked: l.isMarked)
        replace(with: g.ref, parent: parent, slot: slot)
      }
      return (v, bm & clear == 0)
    case _kindBucket:
      let b = _Bucket<V>(ref)
      let pos = b.lowerBound(key)
      let n = b.count
      guard pos < n, b.key(pos) == key else { return nil }
      let vals = b.values
      let v = (vals + pos).move()
      if pos &+ 1 < n {
        (vals + pos).moveInitialize(from: vals + (pos &+ 1), count: n &- pos &- 1)
        b.moveKeys(from: pos &+ 1, to: pos, count: n &- pos &- 1)
      }
      for m in 0..<3 {
        let w = b.marks(m)
        if w != 0 { b.setMarks(m, _deleteBit(w, at: pos)) }
      }
      b.count = n &- 1
      return (v, n == 1)
    default:
      return nil
    }
  }

  /// Sets (`on`) or clears mark `m` of the entry at `key`; false when absent.
  @inlinable @discardableResult
  func setMark(_ m: Int, at key: UInt64, _ on: Bool) -> Bool {
    defer { _checkInvariants() }
    guard !root.isNone, covers(key) else { return false }
    return markBelow(root, key, m, on, parent: nil, slot: 0) != nil
  }

  /// Whether `ref` (in slot `slot` of `parent`, or the root) has mark `m`
  /// anywhere after the change, or nil if the key is absent.
  @inlinable func markBelow(
    _ ref: _Ref, _ key: UInt64, _ m: Int, _ on: Bool, parent: _Branch?, slot: Int
  ) -> Bool? {
    switch ref.kind {
    case _kindBranch:
      let b = _Branch(ref)
      let i = Int(truncatingIfNeeded: (key &>> UInt64(b.shift)) & 63)
      let c = b.slot(i)
      if c.isNone { return nil }
      guard let any = markBelow(c, key, m, on, parent: b, slot: i) else { return nil }
      let (lo, hi) = b.span(i)
      let mask = _slotMask(lo, hi)
      b.setMarks(m, any ? b.marks(m) | mask : b.marks(m) & ~mask)
      return b.marks(m) != 0
    case _kindLeaf:
      var l = _Leaf<V>(ref)
      let bit = UInt64(key & 63)
      guard (l.bitmap &>> bit) & 1 != 0 else { return nil }
      if !l.isMarked {
        if !on { return false }
        // The first mark in this leaf: move it to a node with mark words.
        let n = l.count
        l = reallocated(l, from: n, for: n, marked: true)
        replace(with: l.ref, parent: parent, slot: slot)
      }
      let w = l.marks(m)
      l.setMarks(m, on ? w | (1 &<< bit) : w & ~(1 &<< bit))
      return l.marks(m) != 0
    case _kindBucket:
      var b = _Bucket<V>(ref)
      let pos = b.lowerBound(key)
      guard pos < b.count, b.key(pos) == key else { return nil }
      if !b.hasMarks {
        if !on { return false }
        // The first mark in this bucket: move it to a node with mark words.
        b = rebuilt(b, capacity: b.capacity, narrow: b.isNarrow, marked: true)
        replace(with: b.ref, parent: parent, slot: slot)
      }
      let w = b.marks(m)
      let bit: UInt64 = 1 &<< UInt64(pos)
      b.setMarks(m, on ? w | bit : w & ~bit)
      return b.marks(m) != 0
    default:
      return nil
    }
  }
}

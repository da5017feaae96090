// SPDX-License-Identifier: Apache-2.0
// A forward cursor over one tree: walks a leaf or bucket in place, steps
// from a leaf to the next leaf of the same parent branch directly, and
// goes back to the root only to find a node elsewhere.

@frozen @usableFromInline
struct _Cursor<V> {
  @usableFromInline let tree: _Tree<V>
  @usableFromInline var node: _Ref = .none
  /// Leaf: the present bits not yet visited. Bucket: unused.
  @usableFromInline var bits: UInt64 = 0
  /// The position of the next value in `node`.
  @usableFromInline var index: Int = 0
  /// Leaf: the first key of its block. Bucket: its count.
  @usableFromInline var base: UInt64 = 0
  /// The key to search from when `node` is done; nil at the end.
  @usableFromInline var resume: UInt64?
  /// When `node` is a leaf under a shift-6 branch: that branch, its
  /// present slots after the leaf's, and its first key.
  @usableFromInline var parent: _Ref = .none
  @usableFromInline var parentSlots: UInt64 = 0
  @usableFromInline var parentBase: UInt64 = 0

  @inlinable init(_ tree: _Tree<V>, from start: UInt64) {
    self.tree = tree
    self.resume = start
  }

  /// Positions the cursor on leaf `ref` at `key`, whose value is at `index`.
  @inlinable mutating func enterLeaf(_ ref: _Ref, key: UInt64, index i: Int) {
    node = ref
    index = i
    base = key & ~63
    bits = _Leaf<V>(ref).bitmap & ~_below(Int(truncatingIfNeeded: key & 63))
    resume = base == UInt64.max & ~63 ? nil : base &+ 64
  }

  /// Positions the cursor on the node of `p`.
  @inlinable mutating func enter(_ p: _Position) {
    if p.node.kind == _kindLeaf {
      enterLeaf(p.node, key: p.key, index: p.index)
      parent = tree.leafParent(of: p.key)
      if !parent.isNone {
        let slot = UInt64(truncatingIfNeeded: (p.key &>> 6) & 63)
        parentSlots = _Branch(parent).present & (UInt64.max << (slot &+ 1))
        parentBase = p.key & ~4095
      }
    } else {
      node = p.node
      index = p.index
      parent = .none
      let b = _Bucket<V>(p.node)
      base = UInt64(b.count)
      let last = b.key(b.count &- 1)
      resume = last == .max ? nil : last &+ 1
    }
  }

  /// Moves to the node after the current one; false at the end. Kept out
  /// of line so that the per-entry loop in `next()` stays small.
  @inlinable @inline(never)
  mutating func refill() -> Bool {
    // The parent's next slot, when it holds a leaf: no search needed.
    if !parent.isNone, parentSlots != 0 {
      let j = parentSlots.trailingZeroBitCount
      let c = _Branch(parent).slot(j)
      if c.kind == _kindLeaf {
        parentSlots &= parentSlots &- 1
        enterLeaf(c, key: parentBase | (UInt64(truncatingIfNeeded: j) &<< 6), index: 0)
        return true
      }
    }
    guard let from = resume, let p = tree.next(from: from, mark: nil) else {
      node = .none
      resume = nil
      return false
    }
    enter(p)
    return true
  }

  /// The next entry in key order.
  @inlinable mutating func next() -> (UInt64, V)? {
    while true {
      if node.kind == _kindLeaf {
        if bits != 0 {
          let j = bits.trailingZeroBitCount
          bits &= bits &- 1
          let v = _Leaf<V>(node).values[index]
          index &+= 1
          return (base | UInt64(j), v)
        }
      } else if node.kind == _kindBucket {
        if index < Int(truncatingIfNeeded: base) {
          let b = _Bucket<V>(node)
          let r = (b.key(index), b.values[index])
          index &+= 1
          return r
        }
      }
      if !refill() { return nil }
    }
  }

  /// The key of the next entry, without moving.
  @inlinable mutating func peekKey() -> UInt64? {
    while true {
      if node.kind == _kindLeaf {
        if bits != 0 { return base | UInt64(bits.trailingZeroBitCount) }
      } else if node.kind == _kindBucket {
        if index < Int(truncatingIfNeeded: base) { return _Bucket<V>(node).key(index) }
      }
      if !refill() { return nil }
    }
  }
}

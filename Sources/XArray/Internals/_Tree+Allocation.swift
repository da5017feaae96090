// SPDX-License-Identifier: Apache-2.0
// Allocating, resizing and freeing nodes, keeping the tree's byte count;
// branches between their full and coarse forms.

extension _Tree {
  @inlinable func allocBranch(shift: Int, coarse: Bool = false) -> _Branch {
    let n = _branchBytes(coarse: coarse)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 16)
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: n)
    raw.storeBytes(of: UInt8(truncatingIfNeeded: shift), as: UInt8.self)
    bytes &+= _mallocFootprint(n)
    return _Branch(raw, coarse: coarse)
  }

  @inlinable func freeBranch(_ b: _Branch) {
    bytes &-= _mallocFootprint(b.byteCount)
    b.raw.deallocate()
  }

  /// A new branch `b` in coarse form when its children allow (`b` is freed
  /// then), else `b`; nothing refers to `b` yet.
  @inlinable func coarsened(_ b: _Branch) -> _Branch {
    guard !b.isCoarse && b.isCoarsenable else { return b }
    let c = allocBranch(shift: b.shift, coarse: true)
    c.present = b.present
    for m in 0..<3 { c.setMarks(m, b.marks(m)) }
    var g = 0
    while g < 64 {
      c.setSlot(g, b.slot(g))
      g &+= 4
    }
    freeBranch(b)
    return c
  }

  /// Replaces coarse branch `b`, held in slot `slot` of `holder` (or by the
  /// root), by the same branch in full form, and returns that.
  @inlinable func expanded(_ b: _Branch, holder: _Branch?, slot: Int) -> _Branch {
    let f = allocBranch(shift: b.shift)
    f.present = b.present
    for m in 0..<3 { f.setMarks(m, b.marks(m)) }
    for i in 0..<64 { f.setSlot(i, b.slot(i)) }
    freeBranch(b)
    // A branch fills exactly one slot of its holder, which is never coarse
    // (coarse branches hold only buckets).
    if let h = holder { h.setSlot(slot, f.ref) } else { root = f.ref }
    return f
  }

  /// A new leaf with room for `n` entries (its capacity follows from `n`),
  /// with mark words when `marked`; bitmap and marks are zero.
  @inlinable func allocLeaf(for n: Int, marked: Bool = false) -> _Leaf<V> {
    let cap = _Layout<V>.leafCapacity(for: n)
    let size = _Layout<V>.leafBytes(cap, marked: marked)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: _Layout<V>.align)
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: marked ? 32 : 8)
    (raw + _Layout<V>.leafValues(marked: marked)).bindMemory(to: V.self, capacity: cap)
    bytes &+= _mallocFootprint(size)
    return _Leaf(raw, marked: marked)
  }

  /// Frees a leaf whose values were already moved out or destroyed;
  /// `entries` is the count it was allocated for (its count until then).
  @inlinable func freeLeaf(_ l: _Leaf<V>, entries: Int) {
    bytes &-= _mallocFootprint(_Layout<V>.leafBytes(_Layout<V>.leafCapacity(for: entries), marked: l.isMarked))
    l.raw.deallocate()
  }

  /// Moves the entries of `l` (allocated for `old` entries) into a new
  /// leaf sized for `n` entries, with mark words when `marked`; frees `l`
  /// and returns the new leaf.
  @inlinable func reallocated(_ l: _Leaf<V>, from old: Int, for n: Int, marked: Bool) -> _Leaf<V> {
    let g = allocLeaf(for: n, marked: marked)
    g.bitmap = l.bitmap
    for m in 0..<3 { g.setMarks(m, l.marks(m)) }
    g.values.moveInitialize(from: l.values, count: l.count)
    freeLeaf(l, entries: old)
    return g
  }

  /// A new empty bucket; `upper` gives a narrow bucket's upper key bits.
  @inlinable func allocBucket(
    capacity cap: Int, narrow: Bool, upper: UInt64, marked: Bool = false
  ) -> _Bucket<V> {
    let n = _Layout<V>.bucketBytes(cap, narrow: narrow, marked: marked)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: _Layout<V>.align)
    raw.storeBytes(of: 0, as: UInt8.self)
    raw.storeBytes(of: UInt8(truncatingIfNeeded: cap), toByteOffset: 1, as: UInt8.self)
    let flags = (narrow ? _bucketNarrow : 0) | (marked ? _bucketMarked : 0)
    raw.storeBytes(of: flags, toByteOffset: 2, as: UInt8.self)
    raw.storeBytes(of: 0, toByteOffset: 3, as: UInt8.self)
    raw.storeBytes(
      of: narrow ? UInt32(truncatingIfNeeded: upper &>> 32) : 0, toByteOffset: 4, as: UInt32.self)
    if narrow {
      (raw + 8).bindMemory(to: UInt32.self, capacity: cap)
    } else {
      (raw + 8).bindMemory(to: UInt64.self, capacity: cap)
    }
    (raw + _Layout<V>.bucketValues(cap, narrow: narrow)).bindMemory(to: V.self, capacity: cap)
    if marked {
      let at = _Layout<V>.bucketMarks(cap, narrow: narrow)
      (raw + at).initializeMemory(as: UInt64.self, repeating: 0, count: 3)
    }
    bytes &+= _mallocFootprint(n)
    return _Bucket(raw)
  }

  /// A bucket holding one entry.
  @inlinable func singleBucket(_ key: UInt64, _ value: V, narrow: Bool) -> _Bucket<V> {
    let b = allocBucket(capacity: 4, narrow: narrow, upper: key)
    b.initializeKey(0, key)
    b.values.initialize(to: value)
    b.count = 1
    return b
  }

  /// Moves the entries of `b` into a new bucket of the given capacity and
  /// form, frees `b` and returns the new bucket.
  @inlinable func rebuilt(
    _ b: _Bucket<V>, capacity cap: Int, narrow: Bool, marked: Bool
  ) -> _Bucket<V> {
    let n = b.count
    let g = allocBucket(capacity: cap, narrow: narrow, upper: n > 0 ? b.key(0) : 0, marked: marked)
    if narrow == b.isNarrow {
      if narrow {
        g.narrowKeys.moveInitialize(from: b.narrowKeys, count: n)
      } else {
        g.wideKeys.moveInitialize(from: b.wideKeys, count: n)
      }
    } else {
      for j in 0..<n { g.initializeKey(j, b.key(j)) }
    }
    g.values.moveInitialize(from: b.values, count: n)
    if b.hasMarks && marked {
      for m in 0..<3 { g.setMarks(m, b.marks(m)) }
    }
    g.count = n
    freeBucket(b)
    return g
  }

  /// Frees a bucket whose values were already moved out or destroyed.
  @inlinable func freeBucket(_ b: _Bucket<V>) {
    bytes &-= _mallocFootprint(
      _Layout<V>.bucketBytes(b.capacity, narrow: b.isNarrow, marked: b.hasMarks))
    b.raw.deallocate()
  }
}

// SPDX-License-Identifier: Apache-2.0
// Splitting a full bucket: the entries are gathered in key order and
// rebuilt as buckets, leaves and branches below the same parent.

extension _Tree {
  /// Splits a full bucket, with one more entry, into new children; the
  /// parent (in slot `grandSlot` of `grand`, or the root) becomes a full
  /// branch first if it is coarse, since the new spans are finer.
  @inlinable func overflow(
    _ bucket: _Bucket<V>, _ parent: _Branch?, _ slot: Int, grand: _Branch?, grandSlot: Int,
    insert key: UInt64, _ value: V, at pos: Int
  ) {
    let n = bucket.count &+ 1
    let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
    let values = UnsafeMutablePointer<V>.allocate(capacity: n)
    let marks = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
    defer {
      keys.deallocate()
      values.deallocate()
      marks.deallocate()
    }
    for j in 0..<n {
      (keys + j).initialize(to: j < pos ? bucket.key(j) : j == pos ? key : bucket.key(j &- 1))
    }
    values.moveInitialize(from: bucket.values, count: pos)
    (values + pos).initialize(to: value)
    (values + (pos &+ 1)).moveInitialize(from: bucket.values + pos, count: n &- 1 &- pos)
    let w = (bucket.marks(0), bucket.marks(1), bucket.marks(2))
    for j in 0..<n {
      var mk: UInt8 = 0
      if j != pos {
        let o = UInt64(j < pos ? j : j &- 1)
        if (w.0 &>> o) & 1 != 0 { mk |= 1 }
        if (w.1 &>> o) & 1 != 0 { mk |= 2 }
        if (w.2 &>> o) & 1 != 0 { mk |= 4 }
      }
      (marks + j).initialize(to: mk)
    }
    let entries = _Entries(keys: keys, values: values, marks: marks)
    if var p = parent {
      if p.isCoarse { p = expanded(p, holder: grand, slot: grandSlot) }
      let (lo, hi) = p.span(slot)
      freeBucket(bucket)
      p.fill(lo, hi, .none, marks: 0)
      buildSpan(p, lo, hi, entries, 0, n)
    } else if rootShift == 0 {
      freeBucket(bucket)
      let l = makeLeaf(entries, 0, n)
      root = l.ref
    } else {
      freeBucket(bucket)
      let b = allocBranch(shift: rootShift)
      buildSpan(b, 0, _lastSlot(rootShift), entries, 0, n)
      root = coarsened(b).ref
    }
  }

  /// Fills slots `lo...hi` of `b` (all empty) from entries `[p, q)`, which
  /// are sorted and lie in those slots. Moves the values.
  ///
  /// A slot with many entries becomes a leaf (block level) or a branch;
  /// the others are grouped into buckets of balanced size, each spanning a
  /// run of adjacent slots (empty slots included) whose keys share their
  /// upper 32 bits wherever slots can, so that the buckets are narrow.
  @inlinable func buildSpan(
    _ b: _Branch, _ lo: Int, _ hi: Int, _ e: _Entries<V>, _ p: Int, _ q: Int
  ) {
    let shift = b.shift
    let s = UInt64(shift)
    let blockLevel = s == 6
    // Entries that will go to buckets, to size the groups.
    var loose = 0
    var i = p
    while i < q {
      let slot = (e.keys[i] &>> s) & 63
      var f = i &+ 1
      while f < q && (e.keys[f] &>> s) & 63 == slot { f &+= 1 }
      let n = f &- i
      if !((blockLevel && n >= _leafThreshold) || n > _bucketMax) { loose &+= n }
      i = f
    }
    let groups = Swift.max(1, (loose &+ 39) / 40)
    let target = (loose &+ groups &- 1) / groups
    // The open group: its first slot (-1: none), first entry and size.
    var groupStart = -1
    var groupFirst = p
    var groupCount = 0
    // The last bucket made, while later empty slots may still join it.
    var last: (ref: _Ref, end: Int, marks: UInt8)? = nil

    /// Ends the open group at slot `end`, before entry `i`: a bucket for
    /// its entries, or its empty slots joined to the bucket before it.
    func closeGroup(_ end: Int, _ i: Int) {
      if groupStart >= 0 {
        if groupCount > 0 {
          let c = makeBucket(e, groupFirst, i, narrow: _narrowSpan(shift, groupStart, end))
          b.fill(groupStart, end, c.ref, marks: c.anyMarks)
          last = (c.ref, end, c.anyMarks)
        } else if let l = last, l.end &+ 1 == groupStart {
          b.fill(groupStart, end, l.ref, marks: l.marks)
          last = (l.ref, end, l.marks)
        }
      }
      groupStart = -1
    }

    i = p
    var j = lo
    while j <= hi {
      if j != lo && _narrowRegion(shift, j).lo == j {
        // Buckets stay within the keys that share their upper bits.
        closeGroup(j &- 1, i)
        last = nil
      }
      var f = i
      while f < q && Int(truncatingIfNeeded: (e.keys[f] &>> s) & 63) == j { f &+= 1 }
      let n = f &- i
      if n > 0 && ((blockLevel && n >= _leafThreshold) || n > _bucketMax) {
        if groupCount > 0 { closeGroup(j &- 1, i) }
        groupStart = -1
        last = nil
        if blockLevel {
          let l = makeLeaf(e, i, f)
          b.fill(j, j, l.ref, marks: l.anyMarks)
        } else {
          let c = allocBranch(shift: shift &- 6)
          buildSpan(c, 0, 63, e, i, f)
          let cc = coarsened(c)
          b.fill(j, j, cc.ref, marks: cc.anyMarks)
        }
      } else {
        if groupStart >= 0 && groupCount > 0 && groupCount &+ n > _bucketMax {
          closeGroup(j &- 1, i)
        }
        if groupStart < 0 {
          groupStart = j
          groupFirst = i
          groupCount = 0
        }
        groupCount &+= n
        if groupCount >= target && groupCount > 0 {
          closeGroup(j, f)
        }
      }
      i = f
      j &+= 1
    }
    closeGroup(hi, i)
  }

  @inlinable func makeBucket(
    _ e: _Entries<V>, _ p: Int, _ q: Int, narrow: Bool
  ) -> _Bucket<V> {
    let n = q &- p
    var w: (UInt64, UInt64, UInt64) = (0, 0, 0)
    for j in 0..<n {
      let mk = e.marks[p &+ j]
      let bit: UInt64 = 1 &<< UInt64(j)
      if mk & 1 != 0 { w.0 |= bit }
      if mk & 2 != 0 { w.1 |= bit }
      if mk & 4 != 0 { w.2 |= bit }
    }
    let marked = w.0 | w.1 | w.2 != 0
    let b = allocBucket(
      capacity: _Layout<V>.capacity(for: n, narrow: narrow), narrow: narrow, upper: e.keys[p],
      marked: marked)
    for j in 0..<n { b.initializeKey(j, e.keys[p &+ j]) }
    b.values.moveInitialize(from: e.values + p, count: n)
    b.setMarks(0, w.0)
    b.setMarks(1, w.1)
    b.setMarks(2, w.2)
    b.count = n
    return b
  }

  @inlinable func makeLeaf(_ e: _Entries<V>, _ p: Int, _ q: Int) -> _Leaf<V> {
    let n = q &- p
    var bm: UInt64 = 0
    var w: (UInt64, UInt64, UInt64) = (0, 0, 0)
    for j in p..<q {
      let bit: UInt64 = 1 &<< (e.keys[j] & 63)
      bm |= bit
      let mk = e.marks[j]
      if mk & 1 != 0 { w.0 |= bit }
      if mk & 2 != 0 { w.1 |= bit }
      if mk & 4 != 0 { w.2 |= bit }
    }
    let l = allocLeaf(for: n, marked: w.0 | w.1 | w.2 != 0)
    l.bitmap = bm
    l.setMarks(0, w.0)
    l.setMarks(1, w.1)
    l.setMarks(2, w.2)
    l.values.moveInitialize(from: e.values + p, count: n)
    return l
  }
}

/// Sorted entries in temporary buffers, while a bucket is split.
@frozen @usableFromInline
struct _Entries<V> {
  @usableFromInline let keys: UnsafeMutablePointer<UInt64>
  @usableFromInline let values: UnsafeMutablePointer<V>
  @usableFromInline let marks: UnsafeMutablePointer<UInt8>

  @inlinable init(
    keys: UnsafeMutablePointer<UInt64>, values: UnsafeMutablePointer<V>,
    marks: UnsafeMutablePointer<UInt8>
  ) {
    self.keys = keys
    self.values = values
    self.marks = marks
  }
}

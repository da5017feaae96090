// SPDX-License-Identifier: Apache-2.0
// The tree behind `XArray`: lookup and insertion (node allocation is in
// _Tree+Allocation.swift, splitting a full bucket in _Tree+Split.swift).
// See _Nodes.swift for the layouts.

/// A sparse map from UInt64 keys to values, with three marks per entry.
///
/// Reference type; `XArray` gives it value semantics by copying it whole
/// before mutating a shared instance.
@usableFromInline
final class _Tree<V> {
  /// The root node, if any.
  @exclusivity(unchecked) @usableFromInline var root: _Ref = .none
  /// The shift of a branch at the root: the tree covers keys below
  /// 2^(rootShift + 6). A multiple of 6 in 0...60.
  @exclusivity(unchecked) @usableFromInline var rootShift: Int = 0
  /// The number of entries.
  @exclusivity(unchecked) @usableFromInline var count: Int = 0
  /// Bytes allocated for nodes (malloc chunk sizes).
  @exclusivity(unchecked) @usableFromInline var bytes: Int = 0

  @inlinable init() {}

  deinit { _destroy(root) }

  // MARK: Coverage

  /// The smallest root shift whose tree covers `key`.
  @inlinable static func shiftFitting(_ key: UInt64) -> Int {
    let bits = 64 &- key.leadingZeroBitCount
    var s = 0
    while s &+ 6 < bits { s &+= 6 }
    return s
  }

  /// All-ones below bit `bits` (bits may be 64 or more).
  @inlinable static func lowMask(_ bits: Int) -> UInt64 {
    bits >= 64 ? .max : (1 &<< UInt64(bits)) &- 1
  }

  /// Whether `key` is below the root's coverage limit.
  @inlinable func covers(_ key: UInt64) -> Bool {
    rootShift &+ 6 >= 64 || key &>> UInt64(rootShift &+ 6) == 0
  }

  /// The last key the root covers.
  @inlinable var rootEnd: UInt64 { Self.lowMask(rootShift &+ 6) }

  // MARK: Nodes in place

  /// The marks summary of any node (bit m: some entry below has mark m).
  @inlinable func anyMarks(_ r: _Ref) -> UInt8 {
    switch r.kind {
    case _kindBranch: return _Branch(r).anyMarks
    case _kindLeaf: return _Leaf<V>(r).anyMarks
    case _kindBucket: return _Bucket<V>(r).anyMarks
    default: return 0
    }
  }

  /// Points the slots of `parent` that hold the child at `slot` (or the
  /// root) at `new`.
  @inlinable func replace(with new: _Ref, parent: _Branch?, slot: Int) {
    guard let p = parent else {
      root = new
      return
    }
    let (lo, hi) = p.span(slot)
    var i = lo
    while i <= hi {
      p.setSlot(i, new)
      i &+= 1
    }
  }

  // MARK: Lookup

  /// A pointer to the value at `key`, valid until the next mutation.
  @inlinable func find(_ key: UInt64) -> UnsafeMutablePointer<V>? {
    guard covers(key) else { return nil }
    var ref = root
    // A branch's children that are branches sit 6 bits lower (checked by
    // `invariantViolation`), so the shift is known without reading the
    // node's header line.
    var shift = UInt64(truncatingIfNeeded: rootShift)
    while true {
      switch ref.kind {
      case _kindBranch:
        ref = _Branch(ref).slot(Int(truncatingIfNeeded: (key &>> shift) & 63))
        shift &-= 6
      case _kindLeaf:
        let l = _Leaf<V>(ref)
        let bit = Int(truncatingIfNeeded: key & 63)
        let bm = l.bitmap
        guard (bm &>> UInt64(bit)) & 1 != 0 else { return nil }
        return l.values + (bm == .max ? bit : (bm & _below(bit)).nonzeroBitCount)
      case _kindBucket:
        let b = _Bucket<V>(ref)
        let n = b.count
        if b.isNarrow {
          guard key & ~0xffff_ffff == b.upper else { return nil }
          let k = UInt32(truncatingIfNeeded: key)
          let pos = _lowerBound(b.narrowKeys, n, k)
          guard pos < n, b.narrowKeys[pos] == k else { return nil }
          return b.values + pos
        }
        let pos = _lowerBound(b.wideKeys, n, key)
        guard pos < n, b.wideKeys[pos] == key else { return nil }
        return b.values + pos
      default:
        return nil
      }
    }
  }

  /// The marks of the entry at `key`, or nil when absent.
  @inlinable func marks(at key: UInt64) -> UInt8? {
    guard covers(key) else { return nil }
    var ref = root
    while true {
      switch ref.kind {
      case _kindBranch:
        let b = _Branch(ref)
        ref = b.slot(Int(truncatingIfNeeded: (key &>> UInt64(b.shift)) & 63))
      case _kindLeaf:
        let l = _Leaf<V>(ref)
        let bit = UInt64(key & 63)
        guard (l.bitmap &>> bit) & 1 != 0 else { return nil }
        var r: UInt8 = 0
        for m in 0..<3 where (l.marks(m) &>> bit) & 1 != 0 { r |= 1 << m }
        return r
      case _kindBucket:
        let b = _Bucket<V>(ref)
        let pos = b.lowerBound(key)
        guard pos < b.count, b.key(pos) == key else { return nil }
        var r: UInt8 = 0
        for m in 0..<3 where (b.marks(m) &>> UInt64(pos)) & 1 != 0 { r |= 1 << m }
        return r
      default:
        return nil
      }
    }
  }

  // MARK: Insertion

  /// Stores `value` at `key`; returns the value it replaced, if any.
  /// A replaced entry keeps its marks.
  @inlinable @discardableResult
  func store(_ key: UInt64, _ value: V) -> V? {
    defer { _checkInvariants() }
    if root.isNone {
      rootShift = Self.shiftFitting(key)
      root = singleBucket(key, value, narrow: true).ref
      count = 1
      return nil
    }
    if !covers(key) { grow(toCover: key) }
    var grand: _Branch? = nil
    var grandSlot = 0
    var parent: _Branch? = nil
    var slot = 0
    var ref = root
    var shift = UInt64(truncatingIfNeeded: rootShift)  // as in `find`
    while true {
      switch ref.kind {
      case _kindBranch:
        let b = _Branch(ref)
        let i = Int(truncatingIfNeeded: (key &>> shift) & 63)
        shift &-= 6
        let c = b.slot(i)
        if c.isNone {
          insertIntoEmptySlot(b, i, key, value)
          count &+= 1
          return nil
        }
        grand = parent
        grandSlot = slot
        parent = b
        slot = i
        ref = c
      case _kindLeaf:
        return leafStore(_Leaf(ref), parent, slot, key, value)
      default:
        return bucketStore(
          _Bucket(ref), parent, slot, key, value, grand: grand, grandSlot: grandSlot,
          blockLevel: shift == 0)
      }
    }
  }

  /// Raises the root until it covers `key`.
  @inlinable func grow(toCover key: UInt64) {
    let target = Self.shiftFitting(key)
    if root.kind == _kindBucket || root.isNone {
      rootShift = Swift.max(rootShift, target)
      return
    }
    while rootShift < target {
      let b = allocBranch(shift: rootShift &+ 6)
      b.fill(0, 0, root, marks: anyMarks(root))
      root = b.ref
      rootShift &+= 6
    }
  }

  /// A new node for `key` in empty slot `i`: a leaf when the block before
  /// is a leaf of at least `_leafThreshold` entries (keys filling blocks in
  /// order, such as PFNs, then skip the bucket stage of each block), else a
  /// bucket filling the run of empty slots around `i` (kept within keys
  /// that share their upper 32 bits, where a run could go further, so that
  /// the bucket can be narrow).
  @inlinable func insertIntoEmptySlot(_ b: _Branch, _ i: Int, _ key: UInt64, _ value: V) {
    let s = b.shift
    if s == 6 && i > 0 {
      let left = b.slot(i &- 1)
      if left.kind == _kindLeaf && _Leaf<V>(left).count >= _leafThreshold {
        let l = allocLeaf(for: 1)
        l.values.initialize(to: value)
        l.bitmap = 1 &<< (key & 63)
        b.fill(i, i, l.ref, marks: 0)
        return
      }
    }
    let region = _narrowRegion(s, i)
    var lo = i
    var hi = i
    while lo > region.lo && b.slot(lo &- 1).isNone { lo &-= 1 }
    let top = Swift.min(region.hi, _lastSlot(s))
    while hi < top && b.slot(hi &+ 1).isNone { hi &+= 1 }
    let n = singleBucket(key, value, narrow: _narrowSpan(s, lo, hi))
    b.fill(lo, hi, n.ref, marks: 0)
  }

  @inlinable func leafStore(
    _ leaf: _Leaf<V>, _ parent: _Branch?, _ slot: Int, _ key: UInt64, _ value: V
  ) -> V? {
    let bit = Int(truncatingIfNeeded: key & 63)
    let bm = leaf.bitmap
    let idx = (bm & _below(bit)).nonzeroBitCount
    if (bm &>> UInt64(bit)) & 1 != 0 {
      let p = leaf.values + idx
      let old = p.move()
      p.initialize(to: value)
      return old
    }
    let n = bm.nonzeroBitCount
    var l = leaf
    if n == _Layout<V>.leafCapacity(for: n) {
      l = reallocated(l, from: n, for: n &+ 1, marked: l.isMarked)
      replace(with: l.ref, parent: parent, slot: slot)
    }
    let v = l.values
    if idx < n { (v + (idx &+ 1)).moveInitialize(from: v + idx, count: n &- idx) }
    (v + idx).initialize(to: value)
    l.bitmap = bm | (1 &<< UInt64(bit))
    count &+= 1
    return nil
  }

  /// Stores into `bucket`, in slot `slot` of `parent` (itself in slot
  /// `grandSlot` of `grand`), or the root; `blockLevel` says the bucket's
  /// slots are single 64-key blocks (a shift-6 parent, or a shift-0 root),
  /// known from the descent so that the parent's header line stays cold.
  @inlinable func bucketStore(
    _ bucket: _Bucket<V>, _ parent: _Branch?, _ slot: Int, _ key: UInt64, _ value: V,
    grand: _Branch?, grandSlot: Int, blockLevel: Bool
  ) -> V? {
    var b = bucket
    if b.isNarrow && key & ~0xffff_ffff != b.upper {
      // Only a root bucket meets a key outside its upper bits; a bucket
      // below a branch covers a run of slots that share them.
      b = rebuilt(b, capacity: b.capacity, narrow: false, marked: b.hasMarks)
      replace(with: b.ref, parent: parent, slot: slot)
    }
    let n = b.count
    let pos: Int
    let found: Bool
    if b.isNarrow {
      let k = UInt32(truncatingIfNeeded: key)
      let keys = b.narrowKeys
      pos = n > 0 && keys[n &- 1] < k ? n : _lowerBound(keys, n, k)
      found = pos < n && keys[pos] == k
    } else {
      let keys = b.wideKeys
      pos = n > 0 && keys[n &- 1] < key ? n : _lowerBound(keys, n, key)
      found = pos < n && keys[pos] == key
    }
    if found {
      let p = b.values + pos
      let old = p.move()
      p.initialize(to: value)
      return old
    }
    if n == _bucketMax {
      overflow(b, parent, slot, grand: grand, grandSlot: grandSlot, insert: key, value, at: pos)
      count &+= 1
      return nil
    }
    if n == b.capacity {
      b = rebuilt(
        b, capacity: _Layout<V>.grownCapacity(n, narrow: b.isNarrow), narrow: b.isNarrow,
        marked: b.hasMarks)
      replace(with: b.ref, parent: parent, slot: slot)
    }
    let v = b.values
    if pos < n {
      b.moveKeys(from: pos, to: pos &+ 1, count: n &- pos)
      (v + (pos &+ 1)).moveInitialize(from: v + pos, count: n &- pos)
      if b.hasMarks {
        for m in 0..<3 {
          let w = b.marks(m)
          if w != 0 { b.setMarks(m, _insertBit(w, at: pos)) }
        }
      }
    }
    b.initializeKey(pos, key)
    (v + pos).initialize(to: value)
    b.count = n &+ 1
    count &+= 1
    if n &+ 1 >= _leafThreshold && blockLevel && b.key(0) &>> 6 == b.key(n) &>> 6 {
      becomeLeaf(b, parent, slot)
    }
    return nil
  }

  /// Replaces a bucket whose entries all lie in one 64-key block, at
  /// block level, by a leaf.
  @inlinable func becomeLeaf(_ b: _Bucket<V>, _ parent: _Branch?, _ slot: Int) {
    let n = b.count
    let l = allocLeaf(for: n, marked: b.hasMarks)
    var bm: UInt64 = 0
    var mk: (UInt64, UInt64, UInt64) = (0, 0, 0)
    let bm0 = b.marks(0)
    let bm1 = b.marks(1)
    let bm2 = b.marks(2)
    for j in 0..<n {
      let bit: UInt64 = 1 &<< (b.key(j) & 63)
      let jj = UInt64(j)
      bm |= bit
      if (bm0 &>> jj) & 1 != 0 { mk.0 |= bit }
      if (bm1 &>> jj) & 1 != 0 { mk.1 |= bit }
      if (bm2 &>> jj) & 1 != 0 { mk.2 |= bit }
    }
    l.bitmap = bm
    l.setMarks(0, mk.0)
    l.setMarks(1, mk.1)
    l.setMarks(2, mk.2)
    let block = Int(truncatingIfNeeded: (b.key(0) &>> 6) & 63)
    l.values.moveInitialize(from: b.values, count: n)
    freeBucket(b)
    guard let p = parent else {
      root = l.ref
      return
    }
    let (lo, hi) = p.span(slot)
    p.fill(lo, hi, .none, marks: 0)
    p.fill(block, block, l.ref, marks: l.anyMarks)
  }
}

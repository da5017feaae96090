// SPDX-License-Identifier: Apache-2.0
// Whole-tree copy (for copy-on-write), destruction and invariant checks.
// `_checkInvariants()` is compiled in only when XARRAY_INTERNAL_CHECKS is
// defined (`XARRAY_INTERNAL_CHECKS=1 swift test`; see Package.swift); it is
// empty otherwise. `invariantViolation()` is always there, for the tests.

extension _Tree {
  /// A deep copy with the same shape.
  @inlinable func copy() -> _Tree<V> {
    let t = _Tree<V>()
    t.rootShift = rootShift
    t.count = count
    t.root = t.clone(root)
    return t
  }

  /// Copies the subtree `r` (owned by another tree) into this tree.
  @inlinable func clone(_ r: _Ref) -> _Ref {
    switch r.kind {
    case _kindBranch:
      let src = _Branch(r)
      let b = allocBranch(shift: src.shift, coarse: src.isCoarse)
      b.present = src.present
      for m in 0..<3 { b.setMarks(m, src.marks(m)) }
      for i in 0..<64 {
        let c = src.slot(i)
        if c.isNone { continue }
        if i > 0 && c == src.slot(i &- 1) {
          b.setSlot(i, b.slot(i &- 1))
        } else {
          b.setSlot(i, clone(c))
        }
      }
      return b.ref
    case _kindLeaf:
      let src = _Leaf<V>(r)
      let l = allocLeaf(for: src.count, marked: src.isMarked)
      l.bitmap = src.bitmap
      for m in 0..<3 { l.setMarks(m, src.marks(m)) }
      l.values.initialize(from: src.values, count: src.count)
      return l.ref
    case _kindBucket:
      let src = _Bucket<V>(r)
      let n = src.count
      let b = allocBucket(
        capacity: src.capacity, narrow: src.isNarrow, upper: src.upper, marked: src.hasMarks)
      b.count = n
      for m in 0..<3 { b.setMarks(m, src.marks(m)) }
      if src.isNarrow {
        b.narrowKeys.initialize(from: src.narrowKeys, count: n)
      } else {
        b.wideKeys.initialize(from: src.wideKeys, count: n)
      }
      b.values.initialize(from: src.values, count: n)
      return b.ref
    default:
      return .none
    }
  }

  /// Destroys the values of subtree `r` and frees its nodes.
  @usableFromInline func _destroy(_ r: _Ref) {
    switch r.kind {
    case _kindBranch:
      let b = _Branch(r)
      for i in 0..<64 {
        let c = b.slot(i)
        if c.isNone || (i > 0 && c == b.slot(i &- 1)) { continue }
        _destroy(c)
      }
      freeBranch(b)
    case _kindLeaf:
      let l = _Leaf<V>(r)
      l.values.deinitialize(count: l.count)
      freeLeaf(l, entries: l.count)
    case _kindBucket:
      let b = _Bucket<V>(r)
      b.values.deinitialize(count: b.count)
      freeBucket(b)
    default:
      break
    }
  }

  /// Removes every entry.
  @inlinable func removeAll() {
    _destroy(root)
    root = .none
    rootShift = 0
    count = 0
    _checkInvariants()
  }

  /// Adds the nodes of subtree `r` to `c` (branches, coarse branches,
  /// leaves, buckets).
  @usableFromInline func countNodes(_ r: _Ref, _ c: inout (Int, Int, Int, Int)) {
    switch r.kind {
    case _kindBranch:
      let b = _Branch(r)
      c.0 += 1
      if b.isCoarse { c.1 += 1 }
      for i in 0..<64 {
        let s = b.slot(i)
        if s.isNone || (i > 0 && s == b.slot(i - 1)) { continue }
        countNodes(s, &c)
      }
    case _kindLeaf: c.2 += 1
    case _kindBucket: c.3 += 1
    default: break
    }
  }

  // MARK: Invariants

  #if XARRAY_INTERNAL_CHECKS
    /// Traps if a structural invariant is broken; the mutations call it
    /// last. It walks the whole tree, so a tree of more than 4096 entries
    /// is left to the tests' own `XArray._checkInvariants()` calls: tests
    /// store up to 2^17 keys one at a time, and a walk after each would
    /// make them quadratic.
    @usableFromInline @inline(never)
    func _checkInvariants() {
      guard count <= 4096 else { return }
      if let e = invariantViolation() { preconditionFailure("XArray tree invariant: \(e)") }
    }
  #else
    /// Checks nothing: XARRAY_INTERNAL_CHECKS is off.
    @inlinable @inline(__always)
    func _checkInvariants() {}
  #endif

  /// Checks every structural invariant; returns a description of the first
  /// violation, or nil.
  @usableFromInline func invariantViolation() -> String? {
    var entries = 0
    var used = 0
    if rootShift < 0 || rootShift > 60 || rootShift % 6 != 0 { return "bad root shift \(rootShift)" }
    if root.isNone {
      return count == 0 && bytes == 0 ? nil : "empty tree with count \(count), bytes \(bytes)"
    }
    if root.kind == _kindLeaf && rootShift != 0 { return "root leaf with root shift \(rootShift)" }
    if root.kind == _kindBranch && _Branch(root).shift != rootShift {
      return "root branch shift \(_Branch(root).shift) != \(rootShift)"
    }
    if let e = check(root, lo: 0, hi: rootEnd, entries: &entries, used: &used) { return e }
    if entries != count { return "count \(count) but \(entries) entries" }
    if used != bytes { return "bytes \(bytes) but nodes use \(used)" }
    return nil
  }

  @usableFromInline func check(
    _ r: _Ref, lo: UInt64, hi: UInt64, entries: inout Int, used: inout Int
  ) -> String? {
    switch r.kind {
    case _kindBranch:
      let b = _Branch(r)
      used += _mallocFootprint(b.byteCount)
      let s = b.shift
      if s < 6 || s % 6 != 0 { return "branch with shift \(s)" }
      if b.isCoarse && s < 12 { return "coarse branch at shift \(s)" }
      if b.present == 0 { return "empty branch" }
      var i = 0
      while i < 64 {
        let c = b.slot(i)
        let bit: UInt64 = 1 &<< UInt64(i)
        if c.isNone {
          if b.present & bit != 0 { return "present bit for empty slot \(i)" }
          for m in 0..<3 where b.marks(m) & bit != 0 { return "mark bit for empty slot \(i)" }
          i += 1
          continue
        }
        if b.present & bit == 0 { return "missing present bit for slot \(i)" }
        var j = i
        while j < 63 && b.slot(j + 1) == c { j += 1 }
        if j > i && c.kind != _kindBucket { return "non-bucket in several slots" }
        if c.kind == _kindLeaf && s != 6 { return "leaf under shift \(s)" }
        if c.kind == _kindBranch && _Branch(c).shift != s - 6 { return "child branch shift" }
        if c.kind == _kindBucket {
          for k in 0..<64 where k < i - 1 || k > j + 1 {
            if b.slot(k) == c { return "bucket in non-adjacent slots" }
          }
        }
        let mk = anyMarks(c)
        for k in i...j {
          let kb: UInt64 = 1 &<< UInt64(k)
          if b.present & kb == 0 { return "missing present bit in span" }
          for m in 0..<3 where (b.marks(m) & kb != 0) != (mk & (1 << m) != 0) {
            return "mark \(m) summary wrong at slot \(k) of shift \(s)"
          }
        }
        let cl = lo + (UInt64(i) << UInt64(s))
        let ch = lo + (UInt64(j) << UInt64(s)) + _Tree.lowMask(s)
        if let e = check(c, lo: cl, hi: ch, entries: &entries, used: &used) { return e }
        i = j + 1
      }
      return nil
    case _kindLeaf:
      let l = _Leaf<V>(r)
      used += _mallocFootprint(_Layout<V>.leafBytes(l.capacity, marked: l.isMarked))
      if hi - lo != 63 || lo & 63 != 0 { return "leaf not covering one block" }
      if l.bitmap == 0 { return "empty leaf" }
      for m in 0..<3 where l.marks(m) & ~l.bitmap != 0 { return "leaf mark on absent key" }
      entries += l.count
      return nil
    case _kindBucket:
      let b = _Bucket<V>(r)
      used += _mallocFootprint(
        _Layout<V>.bucketBytes(b.capacity, narrow: b.isNarrow, marked: b.hasMarks))
      let n = b.count
      if n == 0 || n > _bucketMax || n > b.capacity { return "bucket count \(n)" }
      if b.flags & ~(_bucketNarrow | _bucketMarked) != 0 { return "bucket flags \(b.flags)" }
      if b.isNarrow && r != root && lo >> 32 != hi >> 32 {
        return "narrow bucket covering \(lo)...\(hi)"
      }
      for j in 0..<n {
        let k = b.key(j)
        if k < lo || k > hi { return "bucket key \(k) outside \(lo)...\(hi)" }
        if j > 0 && b.key(j - 1) >= k { return "bucket keys not sorted" }
      }
      for m in 0..<3 where n < 64 && b.marks(m) >> UInt64(n) != 0 {
        return "bucket mark past count"
      }
      entries += n
      return nil
    default:
      return "bad node kind \(r.kind)"
    }
  }
}

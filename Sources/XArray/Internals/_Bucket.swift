// SPDX-License-Identifier: Apache-2.0
// A bucket: the sorted keys and values of a sparse part of the key space,
// and the branch-free search of its keys. Layout in _Nodes.swift.

/// Sorted entries of a sparse part of the key space.
@frozen @usableFromInline
struct _Bucket<V> {
  @usableFromInline let raw: UnsafeMutableRawPointer

  @inlinable init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }
  @inlinable init(_ ref: _Ref) { self.raw = ref.raw }

  @inlinable var ref: _Ref { _Ref(raw, kind: _kindBucket) }

  @inlinable var count: Int {
    get { Int(raw.load(as: UInt8.self)) }
    nonmutating set { raw.storeBytes(of: UInt8(truncatingIfNeeded: newValue), as: UInt8.self) }
  }
  @inlinable var capacity: Int { Int(raw.load(fromByteOffset: 1, as: UInt8.self)) }
  @inlinable var flags: UInt8 { raw.load(fromByteOffset: 2, as: UInt8.self) }
  /// Whether keys are stored as their lower 32 bits under `upper`.
  @inlinable var isNarrow: Bool { flags & _bucketNarrow != 0 }
  /// Whether the node has room for mark bits.
  @inlinable var hasMarks: Bool { flags & _bucketMarked != 0 }
  /// A narrow bucket's upper 32 key bits, shifted into place.
  @inlinable var upper: UInt64 {
    UInt64(raw.load(fromByteOffset: 4, as: UInt32.self)) &<< 32
  }

  @inlinable var narrowKeys: UnsafeMutablePointer<UInt32> {
    (raw + 8).assumingMemoryBound(to: UInt32.self)
  }
  @inlinable var wideKeys: UnsafeMutablePointer<UInt64> {
    (raw + 8).assumingMemoryBound(to: UInt64.self)
  }
  @inlinable var values: UnsafeMutablePointer<V> {
    (raw + _Layout<V>.bucketValues(capacity, narrow: isNarrow)).assumingMemoryBound(to: V.self)
  }

  /// The key at position `i`.
  @inlinable func key(_ i: Int) -> UInt64 {
    isNarrow ? upper | UInt64(narrowKeys[i]) : wideKeys[i]
  }

  /// Stores `k` at position `i` (a narrow bucket keeps its lower bits).
  @inlinable func initializeKey(_ i: Int, _ k: UInt64) {
    if isNarrow {
      (narrowKeys + i).initialize(to: UInt32(truncatingIfNeeded: k))
    } else {
      (wideKeys + i).initialize(to: k)
    }
  }

  /// Moves `n` keys from position `from` to position `to`.
  @inlinable func moveKeys(from: Int, to: Int, count n: Int) {
    if isNarrow {
      (narrowKeys + to).moveInitialize(from: narrowKeys + from, count: n)
    } else {
      (wideKeys + to).moveInitialize(from: wideKeys + from, count: n)
    }
  }

  @inlinable func marks(_ m: Int) -> UInt64 {
    guard hasMarks else { return 0 }
    return raw.load(
      fromByteOffset: _Layout<V>.bucketMarks(capacity, narrow: isNarrow) &+ 8 &* m, as: UInt64.self)
  }
  /// Sets the bits of mark `m`; a bucket without room takes only zero.
  @inlinable func setMarks(_ m: Int, _ v: UInt64) {
    guard hasMarks else { return }
    raw.storeBytes(
      of: v, toByteOffset: _Layout<V>.bucketMarks(capacity, narrow: isNarrow) &+ 8 &* m,
      as: UInt64.self)
  }
  @inlinable var anyMarks: UInt8 {
    guard hasMarks else { return 0 }
    return (marks(0) != 0 ? 1 : 0) | (marks(1) != 0 ? 2 : 0) | (marks(2) != 0 ? 4 : 0)
  }

  /// The first position whose key is not below `key`.
  @inlinable func lowerBound(_ key: UInt64) -> Int {
    let n = count
    if n == 0 { return 0 }
    if isNarrow {
      let u = upper
      if key & ~0xffff_ffff != u { return key < u ? 0 : n }
      return _lowerBound(narrowKeys, n, UInt32(truncatingIfNeeded: key))
    }
    return _lowerBound(wideKeys, n, key)
  }

  /// The last position whose key is not above `key`, or -1.
  @inlinable func upperPosition(_ key: UInt64) -> Int {
    let n = count
    if n > 0 && self.key(n &- 1) <= key { return n &- 1 }
    return lowerBound(key &+ 1) &- 1
  }
}

/// Bucket flag: keys stored as their lower 32 bits.
@inlinable var _bucketNarrow: UInt8 { 1 }
/// Bucket flag: the node ends with three mark words.
@inlinable var _bucketMarked: UInt8 { 2 }

/// The first of `n` sorted keys at `k` that is not below `key` (n ≤ 64).
///
/// Without data-dependent branches: for random keys each comparison is a
/// coin toss, and a mispredicted branch costs more than a whole step. The
/// steps are unrolled because LLVM turns a select inside a loop back into
/// a branch. The first step splits `n` into two overlapping halves of a
/// power of two `p`; each later step halves the range.
@inlinable @inline(__always)
func _lowerBound<K: FixedWidthInteger>(_ k: UnsafeMutablePointer<K>, _ n: Int, _ key: K) -> Int {
  if n <= 0 { return 0 }
  let p = 1 &<< (63 &- n.leadingZeroBitCount)
  // The answer lies in base ... base + step after each step.
  var base = (n &- p) & (0 &- _bit(k[p &- 1] < key))
  if p > 32 { base &+= 32 & (0 &- _bit(k[base &+ 31] < key)) }
  if p > 16 { base &+= 16 & (0 &- _bit(k[base &+ 15] < key)) }
  if p > 8 { base &+= 8 & (0 &- _bit(k[base &+ 7] < key)) }
  if p > 4 { base &+= 4 & (0 &- _bit(k[base &+ 3] < key)) }
  if p > 2 { base &+= 2 & (0 &- _bit(k[base &+ 1] < key)) }
  if p > 1 { base &+= 1 & (0 &- _bit(k[base] < key)) }
  return base &+ _bit(k[base] < key)
}

/// 1 for true, 0 for false, without a branch.
@inlinable @inline(__always)
func _bit(_ b: Bool) -> Int {
  Int(truncatingIfNeeded: unsafeBitCast(b, to: UInt8.self))
}

/// Whether a bucket filling slots `lo...hi` of a branch at `shift` covers
/// keys that share their upper 32 bits, and so can be narrow.
@inlinable
func _narrowSpan(_ shift: Int, _ lo: Int, _ hi: Int) -> Bool {
  if shift &+ 6 <= 32 { return true }
  if shift >= 32 { return false }
  let w = 32 &- shift
  return lo &>> w == hi &>> w
}

/// The slots of a branch at `shift` whose keys share slot `i`'s upper 32
/// bits; all 64 when no two slots do (buckets there are wide anyway).
@inlinable
func _narrowRegion(_ shift: Int, _ i: Int) -> (lo: Int, hi: Int) {
  if shift &+ 6 <= 32 || shift >= 32 { return (0, 63) }
  let w = 32 &- shift
  let lo = (i &>> w) &<< w
  return (lo, lo &+ (1 &<< w) &- 1)
}

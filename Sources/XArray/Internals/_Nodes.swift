// SPDX-License-Identifier: Apache-2.0
// The raw node layouts of the tree behind `XArray`. This file,
// `_Bucket.swift` and `_Tree*.swift` are the only places in the module that
// touch raw memory.
//
// Three node kinds, told apart by the low two bits of a child reference:
//
//   branch (1)  64 child slots for the 64 values of six key bits at `shift`;
//               a `present` bitmap of non-empty slots and, per mark, a
//               summary bitmap of slots whose subtree holds a marked entry.
//               A coarse branch (reference bit 2 set) stores one slot per
//               four: every child is a bucket spanning whole aligned groups
//               of four slots (below a shift-30 branch, the keys of a group
//               share their upper 32 bits). Random keys leave most shift-30
//               branches like that; coarse, they take 168 bytes, not 552.
//   leaf   (2)  one aligned block of 64 keys (a child of a shift-6 branch,
//               or the root when the tree covers keys 0..<64): a presence
//               bitmap and the present values packed in key order (rank =
//               popcount of the bits below); one bitmap per mark only once
//               an entry is marked (reference bit 2 set). The capacity is
//               not stored: it is the step of the growth sequence that
//               holds the entries (`_Layout.leafCapacity(for:)`), kept so
//               by growing and shrinking at the steps.
//   bucket (3)  up to 64 entries of a sparse part of the key space, as
//               sorted keys with their values; it may fill a run of several
//               adjacent slots of its parent (each slot then refers to it),
//               or be the root. A narrow bucket holds keys that share their
//               upper 32 bits and stores only the lower 32 of each; a bucket
//               gets room for mark bits (one word per mark, bit per entry)
//               only once one of its entries is marked.
//
// Branch (552 bytes, coarse 168): +0 u8 shift | +8 u64 present |
//                     +16 u64 marks[3] | +40 refs[64, or 16 when coarse]
// Leaf:   +0 u64 bitmap | +8 u64 marks[3] when marked | values
// Bucket: +0 u8 count | +1 u8 capacity | +2 u8 flags | +4 u32 upper key bits
//         (narrow) | +8 keys[cap] (u32 narrow, u64 wide) | values[cap] |
//         marks[3] when flagged

/// Largest number of entries in one bucket (marks fit one word each).
@inlinable var _bucketMax: Int { 64 }
/// Entries of one 64-key block at which a bucket becomes a leaf.
@inlinable var _leafThreshold: Int { 8 }
/// Size of a branch node in bytes: 64 slots, or 16 when coarse.
@inlinable func _branchBytes(coarse: Bool) -> Int { 40 &+ (coarse ? 16 : 64) &* 8 }
/// Reference bit of a coarse branch.
@inlinable var _refCoarse: UInt { 4 }
/// Reference bit of a leaf that has mark words.
@inlinable var _refLeafMarked: UInt { 4 }

@inlinable var _kindBranch: UInt { 1 }
@inlinable var _kindLeaf: UInt { 2 }
@inlinable var _kindBucket: UInt { 3 }

/// What glibc's malloc takes for a request of `n` bytes (its chunk size).
@inlinable
func _mallocFootprint(_ n: Int) -> Int {
  Swift.max(32, (n &+ 8 &+ 15) & ~15)
}

/// A tagged reference to a node; 0 is "no node". Nodes are 16-byte
/// aligned: the low two bits give the kind, bit 2 marks a coarse branch.
@frozen @usableFromInline
struct _Ref: Equatable {
  @usableFromInline var bits: UInt

  @inlinable init(bits: UInt) { self.bits = bits }
  @inlinable init(_ raw: UnsafeMutableRawPointer, kind: UInt) {
    self.bits = UInt(bitPattern: raw) | kind
  }

  @inlinable static var none: _Ref { _Ref(bits: 0) }
  @inlinable var isNone: Bool { bits == 0 }
  @inlinable var kind: UInt { bits & 3 }
  @inlinable var raw: UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: bits & ~15).unsafelyUnwrapped
  }
}

/// A 64-way interior node.
///
/// Slots are addressed 0..<64 alike in both forms; a coarse branch maps
/// slot `i` to stored slot `i / 4`, so setting a slot sets its group. Only
/// the reference records the form.
@frozen @usableFromInline
struct _Branch {
  @usableFromInline let raw: UnsafeMutableRawPointer
  /// Whether the node stores one slot per group of four.
  @usableFromInline let isCoarse: Bool

  @inlinable init(_ raw: UnsafeMutableRawPointer, coarse: Bool) {
    self.raw = raw
    self.isCoarse = coarse
  }
  @inlinable init(_ ref: _Ref) {
    self.raw = ref.raw
    self.isCoarse = ref.bits & _refCoarse != 0
  }

  @inlinable var ref: _Ref {
    _Ref(bits: UInt(bitPattern: raw) | _kindBranch | (isCoarse ? _refCoarse : 0))
  }
  /// Bytes of the node.
  @inlinable var byteCount: Int { _branchBytes(coarse: isCoarse) }

  @inlinable var shift: Int { Int(raw.load(as: UInt8.self)) }

  @inlinable var present: UInt64 {
    get { raw.load(fromByteOffset: 8, as: UInt64.self) }
    nonmutating set { raw.storeBytes(of: newValue, toByteOffset: 8, as: UInt64.self) }
  }

  @inlinable func marks(_ m: Int) -> UInt64 {
    raw.load(fromByteOffset: 16 &+ 8 &* m, as: UInt64.self)
  }
  @inlinable func setMarks(_ m: Int, _ v: UInt64) {
    raw.storeBytes(of: v, toByteOffset: 16 &+ 8 &* m, as: UInt64.self)
  }
  @inlinable var anyMarks: UInt8 {
    (marks(0) != 0 ? 1 : 0) | (marks(1) != 0 ? 2 : 0) | (marks(2) != 0 ? 4 : 0)
  }

  /// The child at slot `i`.
  ///
  /// A branch on the form, not a shift computed from it: the branch follows
  /// the level, so it predicts well and keeps the form off the path to the
  /// slot's address, where a shift adds a few cycles to every level of
  /// every lookup (PFN-like lookups in order: 6.3 ns against 6.9).
  @inlinable @inline(__always) func slot(_ i: Int) -> _Ref {
    if _fastPath(!isCoarse) {
      return _Ref(bits: raw.load(fromByteOffset: 40 &+ 8 &* i, as: UInt.self))
    }
    return _Ref(bits: raw.load(fromByteOffset: 40 &+ 8 &* (i &>> 2), as: UInt.self))
  }
  /// Sets slot `i` (in a coarse branch, its whole group of four).
  @inlinable func setSlot(_ i: Int, _ r: _Ref) {
    raw.storeBytes(
      of: r.bits, toByteOffset: 40 &+ 8 &* (isCoarse ? i &>> 2 : i), as: UInt.self)
  }

  /// Whether every child is a bucket (or nothing) filling whole aligned
  /// groups of four slots, so that a coarse branch can hold the same.
  @inlinable var isCoarsenable: Bool {
    if shift < 12 { return false }
    var g = 0
    while g < 64 {
      let r = slot(g)
      if !r.isNone && r.kind != _kindBucket { return false }
      if slot(g &+ 1) != r || slot(g &+ 2) != r || slot(g &+ 3) != r { return false }
      g &+= 4
    }
    return true
  }

  /// The run of adjacent slots that hold the same child as slot `i`.
  @inlinable func span(_ i: Int) -> (lo: Int, hi: Int) {
    let r = slot(i)
    var lo = i
    var hi = i
    if r.kind == _kindBucket {
      while lo > 0 && slot(lo &- 1) == r { lo &-= 1 }
      while hi < 63 && slot(hi &+ 1) == r { hi &+= 1 }
    }
    return (lo, hi)
  }

  /// Sets slots `lo...hi` to `r`, with present and mark summary bits; in a
  /// coarse branch `lo...hi` must be whole groups of four.
  @inlinable func fill(_ lo: Int, _ hi: Int, _ r: _Ref, marks: UInt8) {
    var i = lo
    while i <= hi {
      setSlot(i, r)
      i &+= 1
    }
    let mask = _slotMask(lo, hi)
    present = r.isNone ? present & ~mask : present | mask
    for m in 0..<3 {
      let on = marks & (1 << m) != 0
      setMarks(m, on ? self.marks(m) | mask : self.marks(m) & ~mask)
    }
  }
}

/// The last slot of a branch at `shift` that keys can reach (15 at the top).
@inlinable
func _lastSlot(_ shift: Int) -> Int {
  shift >= 60 ? 15 : 63
}

/// Bits `lo...hi` of a word.
@inlinable
func _slotMask(_ lo: Int, _ hi: Int) -> UInt64 {
  (UInt64.max &>> UInt64(63 &- (hi &- lo))) &<< UInt64(lo)
}

/// Bits strictly below `bit` (0 ..< 64).
@inlinable
func _below(_ bit: Int) -> UInt64 {
  (1 &<< UInt64(bit)) &- 1
}

/// Byte offsets that depend on the value type.
@usableFromInline
enum _Layout<V> {
  @inlinable static var align: Int { Swift.max(16, MemoryLayout<V>.alignment) }
  @inlinable static var stride: Int { MemoryLayout<V>.stride }
  @inlinable static func roundUp(_ n: Int, _ a: Int) -> Int { (n &+ a &- 1) & ~(a &- 1) }
  /// Where a leaf's values start: after the bitmap, and the marks if any.
  @inlinable static func leafValues(marked: Bool) -> Int {
    roundUp(marked ? 32 : 8, Swift.max(8, MemoryLayout<V>.alignment))
  }
  @inlinable static func leafBytes(_ cap: Int, marked: Bool) -> Int {
    leafValues(marked: marked) &+ cap &* stride
  }
  @inlinable static func bucketValues(_ cap: Int, narrow: Bool) -> Int {
    roundUp(8 &+ (narrow ? 4 : 8) &* cap, Swift.max(8, MemoryLayout<V>.alignment))
  }
  @inlinable static func bucketMarks(_ cap: Int, narrow: Bool) -> Int {
    roundUp(bucketValues(cap, narrow: narrow) &+ cap &* stride, 8)
  }
  @inlinable static func bucketBytes(_ cap: Int, narrow: Bool, marked: Bool) -> Int {
    marked
      ? bucketMarks(cap, narrow: narrow) &+ 24
      : bucketValues(cap, narrow: narrow) &+ cap &* stride
  }

  /// The capacity to grow to from `n`: 4, 8, 12, 16, 24, 32, 40, … 64, or
  /// for narrow buckets 4, 8, then steps of 2 (their 12-byte entries fill
  /// malloc chunks exactly at every fourth and within 8 bytes at every
  /// second; below 8 the bucket may soon become a leaf instead).
  @inlinable static func grownCapacity(_ n: Int, narrow: Bool = false) -> Int {
    if n < 4 { return 4 }
    if narrow && n >= 8 { return Swift.min(64, (n &+ 2) & ~1) }
    if n < 16 || narrow { return (n &+ 4) & ~3 }
    return Swift.min(64, (n &+ 8) & ~7)
  }
  /// A leaf's capacity for `n` entries (1...64): the smallest of 8, 16,
  /// 20, 24, 40, 64 that holds them. A leaf is always allocated at this
  /// capacity, so it need not store it. The steps fit PFN-like blocks
  /// (about 16 entries of 64) within a few values, and with the 8-byte
  /// header an even capacity of 8-byte values fills malloc's chunk exactly;
  /// a block filling in order is reallocated five times on its way to 64.
  @inlinable static func leafCapacity(for n: Int) -> Int {
    n <= 8 ? 8 : n <= 16 ? 16 : n <= 20 ? 20 : n <= 24 ? 24 : n <= 40 ? 40 : 64
  }
  /// The smallest capacity in the growth sequence that holds `n`.
  @inlinable static func capacity(for n: Int, narrow: Bool = false) -> Int {
    var c = 4
    while c < n { c = grownCapacity(c, narrow: narrow) }
    return c
  }
}

/// A block of 64 keys with packed values.
@frozen @usableFromInline
struct _Leaf<V> {
  @usableFromInline let raw: UnsafeMutableRawPointer
  /// Whether the node has mark words (reference bit 2).
  @usableFromInline let isMarked: Bool

  @inlinable init(_ raw: UnsafeMutableRawPointer, marked: Bool) {
    self.raw = raw
    self.isMarked = marked
  }
  @inlinable init(_ ref: _Ref) {
    self.raw = ref.raw
    self.isMarked = ref.bits & _refLeafMarked != 0
  }

  @inlinable var ref: _Ref {
    _Ref(bits: UInt(bitPattern: raw) | _kindLeaf | (isMarked ? _refLeafMarked : 0))
  }

  /// The allocated capacity, which follows from the count.
  @inlinable var capacity: Int { _Layout<V>.leafCapacity(for: count) }
  @inlinable var bitmap: UInt64 {
    get { raw.load(as: UInt64.self) }
    nonmutating set { raw.storeBytes(of: newValue, as: UInt64.self) }
  }
  @inlinable var count: Int { bitmap.nonzeroBitCount }
  /// Mark `m`'s bitmap; 0 in a leaf without mark words.
  @inlinable func marks(_ m: Int) -> UInt64 {
    isMarked ? raw.load(fromByteOffset: 8 &+ 8 &* m, as: UInt64.self) : 0
  }
  /// Sets mark `m`'s bitmap; only in a leaf with mark words.
  @inlinable func setMarks(_ m: Int, _ v: UInt64) {
    if isMarked { raw.storeBytes(of: v, toByteOffset: 8 &+ 8 &* m, as: UInt64.self) }
  }
  @inlinable var anyMarks: UInt8 {
    (marks(0) != 0 ? 1 : 0) | (marks(1) != 0 ? 2 : 0) | (marks(2) != 0 ? 4 : 0)
  }
  @inlinable var values: UnsafeMutablePointer<V> {
    (raw + _Layout<V>.leafValues(marked: isMarked)).assumingMemoryBound(to: V.self)
  }
}

/// Inserts a zero bit at `pos`, moving higher bits up.
@inlinable
func _insertBit(_ w: UInt64, at pos: Int) -> UInt64 {
  let low = w & _below(pos)
  return low | ((w & ~_below(pos)) &<< 1)
}

/// Removes bit `pos`, moving higher bits down.
@inlinable
func _deleteBit(_ w: UInt64, at pos: Int) -> UInt64 {
  let low = w & _below(pos)
  let high = pos >= 63 ? 0 : (w &>> UInt64(pos &+ 1)) &<< UInt64(pos)
  return low | high
}

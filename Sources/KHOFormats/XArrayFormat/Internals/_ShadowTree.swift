// SPDX-License-Identifier: Apache-2.0
import KHOCore
import XArray

// The engine behind both zero-copy views: an index built once, when a view
// is opened, after every pointer of the preserved tree has been validated.
// Interior nodes are translated into small integer ids (so that a lookup
// never hashes a physical address); leaves are read in place through the
// `Bytes` handles that `PhysicalMemory` gave out, kept alive in `owners`.
//
// This file holds the storage and the types it is made of. The rest, by
// concern: _ShadowTree+Build.swift (what the openers call to add nodes,
// leaves and ranges), +Freeze.swift (the lookup tables made once building
// is done), +Leaves.swift (reading a leaf block), +Lookup.swift (`find`
// and the `value(at:)` fast path), +Search.swift (`next` and `previous`),
// +Lists.swift (list leaves) and +Invariants.swift. These files hold the
// only raw pointer reads of the xarray format code.

/// A reference to a shadow node: its kind and its index among the nodes,
/// leaves or ranges, packed in 32 bits (`id << 2 | kind`) so that
/// `_ShadowTree.children` stays small.
struct _ShadowRef: Equatable {
  /// What a reference points to; the raw value is the low two bits.
  enum Kind: Int32 {
    /// No entry below this slot.
    case empty = 0
    /// An interior node: `1 << nodeBits` slots in `children`.
    case node = 1
    /// A leaf: an element of `leaves`.
    case leaf = 2
    /// A range entry: an element of `ranges`.
    case range = 3
  }

  /// `id << 2 | kind`.
  var bits: Int32

  @inline(__always) init(bits: Int32) { self.bits = bits }

  @inline(__always) init(_ kind: Kind, id: Int) {
    self.bits = Int32(truncatingIfNeeded: id << 2 | Int(kind.rawValue))
  }

  /// The empty reference.
  @inline(__always) static var empty: _ShadowRef { _ShadowRef(bits: 0) }

  @inline(__always) var kind: Kind { Kind(rawValue: bits & 3).unsafelyUnwrapped }
  /// The index in the array of its kind.
  @inline(__always) var id: Int { Int(bits >> 2) }
  @inline(__always) var isEmpty: Bool { bits == 0 }
  @inline(__always) var isNode: Bool { bits & 3 == Kind.node.rawValue }
  @inline(__always) var isLeaf: Bool { bits & 3 == Kind.leaf.rawValue }
  @inline(__always) var isRange: Bool { bits & 3 == Kind.range.rawValue }
}

/// Entries of a list leaf per fence (see `_ShadowTree.fences`).
let _listRun = 64

/// How a leaf stores its block.
enum _LeafKind: UInt8 {
  /// kho-xarray-v1: pageSize/8 values, 0 = absent.
  case v1 = 0
  /// kho-xarray-v2 dense: every key present, no marks.
  case dense = 1
  /// kho-xarray-v2 packed: bitmaps, values packed in key order.
  case packed = 2
  /// kho-xarray-v2 wide: values by key, bitmaps on a second page.
  case wide = 3
  /// kho-xarray-v2 list: sorted indices and their values, for a subtree
  /// above the leaf level; `meta` holds the three mark bitmaps by position.
  case list = 4
}

/// Where a leaf's block lives and how to read it.
struct _LeafInfo {
  var kind: _LeafKind
  /// The first value.
  var values: UnsafeRawPointer
  /// The start of the bitmaps: present, sibling, mark0..2 (packed, wide),
  /// or mark0..2 by position (list).
  var meta: UnsafeRawPointer?
  /// Index in `rankTable` of this leaf's per-word prefix counts.
  var rankBase: Int
  /// A list's number of entries.
  var count = 0
  /// A list's sorted indices.
  var keys: UnsafeRawPointer? = nil
  /// Index in `fences` of the first index of each of a list's runs.
  var fenceBase = 0
  /// Bytes from one list entry's index (and value) to the next's: 8 when
  /// the indices and the values are apart, 16 when they are paired.
  var step = 8
}

/// The lookup record for 64 keys of a leaf (see `_ShadowTree.wordTable`).
struct _WordEntry {
  /// Bit i set: an entry starts at key 64·w + i.
  var present: UInt64 = 0
  /// The address of the value of the first present key; low bit set when
  /// values sit by key (dense, wide), clear when packed by rank.
  var base: UInt = 0
}

/// One word of `_ShadowTree.blockTable`: what a lookup finds for one leaf
/// block. A dense or v1 leaf's values pointer (8-byte aligned) with tag 1
/// or 2, another leaf's reference shifted left by 3 with tag 4, or 0 for
/// no leaf.
struct _BlockEntry {
  /// The pointer or shifted reference, with the tag in the low three bits.
  var bits: UInt

  /// No leaf.
  @inline(__always) static var none: _BlockEntry { _BlockEntry(bits: 0) }
  /// A dense leaf whose values start at `values`.
  @inline(__always) static func dense(_ values: UInt) -> _BlockEntry { _BlockEntry(bits: values | 1) }
  /// A v1 leaf whose values start at `values`.
  @inline(__always) static func v1(_ values: UInt) -> _BlockEntry { _BlockEntry(bits: values | 2) }
  /// Any other leaf, through its reference.
  @inline(__always) static func leaf(_ ref: _ShadowRef) -> _BlockEntry {
    _BlockEntry(bits: UInt(ref.bits) << 3 | 4)
  }

  @inline(__always) var isNone: Bool { bits == 0 }
  @inline(__always) var isDense: Bool { bits & 1 != 0 }
  @inline(__always) var isV1: Bool { bits & 2 != 0 }
  /// The values of a dense or v1 leaf.
  @inline(__always) var values: UnsafeRawPointer { UnsafeRawPointer(bitPattern: bits & ~7).unsafelyUnwrapped }
  /// The reference of any other leaf.
  @inline(__always) var ref: _ShadowRef { _ShadowRef(bits: Int32(truncatingIfNeeded: bits >> 3)) }
}

/// One entry: its extent, value and marks. What `_ShadowTree.ranges`
/// records for a range entry and what a lookup or search returns.
struct _ShadowEntry {
  var first: UInt64
  var last: UInt64
  var value: UInt64
  var marks: UInt8
}

/// The mark a search asks for, resolved once per search from an
/// `XArrayMark?` so that the loops below test an integer.
struct _MarkFilter {
  /// `1 << mark`, or 0 when any entry will do.
  let bit: UInt8
  /// The mark's number (0...2); 0 when any entry will do.
  let mark: Int
  /// The bitmap of a packed or wide leaf to scan: 0 (present) or 2 + mark.
  let table: Int

  @inline(__always) init(_ mark: XArrayMark?) {
    self.bit = mark.map { 1 << UInt8($0.rawValue) } ?? 0
    self.mark = mark?.rawValue ?? 0
    self.table = mark.map { 2 + $0.rawValue } ?? 0
  }

  /// Whether any entry will do.
  @inline(__always) var isAny: Bool { bit == 0 }

  /// Whether an entry, or a subtree whose summary is `marks`, passes.
  @inline(__always) func accepts(_ marks: UInt8) -> Bool { bit == 0 || marks & bit != 0 }
}

/// The index of one preserved xarray: its nodes and leaves, and the lookup
/// tables `freeze()` makes of them.
final class _ShadowTree: @unchecked Sendable {
  let leafBits: Int
  let nodeBits: Int
  let order: ByteOrder
  /// Words of a leaf bitmap.
  let bitmapWords: Int
  /// Child references, `1 << nodeBits` per interior node.
  @exclusivity(unchecked) var children: [_ShadowRef] = []
  /// Mark summary per child slot (v2), parallel to `children`.
  @exclusivity(unchecked) var slotMarks: [UInt8] = []
  @exclusivity(unchecked) var leaves: [_LeafInfo] = []
  @exclusivity(unchecked) var ranges: [_ShadowEntry] = []
  @exclusivity(unchecked) var rankTable: [UInt16] = []
  /// The present-bitmap words of packed and wide leaves, indexed like
  /// `rankTable`: a copy of 1/64 of each leaf so that a lookup touches
  /// one line of the preserved page (the value's), not two.
  @exclusivity(unchecked) var presentTable: [UInt64] = []
  /// The first index of every run of `_listRun` entries of each list leaf,
  /// so that a lookup bisects this in-memory array first and then one run
  /// of the page, instead of touching a new line of the list at most
  /// steps. An eighth of a byte per entry; runs of 16 measured no faster.
  @exclusivity(unchecked) var fences: [UInt64] = []
  @exclusivity(unchecked) var owners: [Bytes] = []
  @exclusivity(unchecked) var nodeCount = 0
  /// The top reference and its level (0 = a leaf block).
  @exclusivity(unchecked) var root: _ShadowRef = .empty
  @exclusivity(unchecked) var rootLevel = 0
  /// The bits above the root's coverage that every key must have.
  @exclusivity(unchecked) var rootPrefix: UInt64 = 0
  @exclusivity(unchecked) var count = 0

  /// Copies of `children`, `leaves` and `rankTable` made by `freeze()`
  /// for the lookup fast path (reading the arrays of a class instance
  /// costs a retain and release per access).
  var frozenChildren: UnsafeMutablePointer<_ShadowRef>?
  var frozenLeaves: UnsafeMutablePointer<_LeafInfo>?
  var frozenRanks: UnsafeMutablePointer<UInt16>?
  var frozenPresent: UnsafeMutablePointer<UInt64>?
  var frozenFences: UnsafeMutablePointer<UInt64>?

  /// One entry per leaf block from `blockBase` to the last block that has
  /// a leaf, when that is at most 8 words per leaf (or 2^16): one load
  /// instead of a walk.
  var blockTable: UnsafeMutablePointer<_BlockEntry>?
  var blockBase: UInt64 = 0
  var blockCount: UInt64 = 0

  /// One record per 64 keys of the blocks that `blockTable` spans, built
  /// when the tree has packed or wide leaves (v2) and spans at most twice
  /// as many blocks as it has leaves: a lookup of a present key reads this
  /// record and then the value, nothing else. Empty records (present 0)
  /// and keys inside ranges fall through to the block table.
  var wordTable: UnsafeMutablePointer<_WordEntry>?

  init(leafBits: Int, nodeBits: Int, order: ByteOrder) {
    self.leafBits = leafBits
    self.nodeBits = nodeBits
    self.order = order
    self.bitmapWords = (1 << leafBits) / 64
  }

  deinit {
    wordTable?.deallocate()
    blockTable?.deallocate()
    frozenChildren?.deallocate()
    frozenLeaves?.deallocate()
    frozenRanks?.deallocate()
    frozenPresent?.deallocate()
    frozenFences?.deallocate()
  }

  /// The start of `b`'s bytes (a dummy aligned address when it is empty).
  static func base(_ b: Bytes) -> UnsafeRawPointer {
    b.withUnsafeBytes { $0.baseAddress ?? UnsafeRawPointer(bitPattern: 8).unsafelyUnwrapped }
  }

  /// Reads a u64 at `offset` from `p`, in the image's byte order.
  @inline(__always) func load(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
    _ImageWords._u64(p, at: offset, order)
  }

  // MARK: Geometry

  /// Bits of key covered by one slot of a node at `level` (level >= 1).
  @inline(__always) func slotBits(_ level: Int) -> Int { leafBits + (level - 1) * nodeBits }
  /// Bits of key covered by a whole node (or leaf) at `level`.
  @inline(__always) func coverBits(_ level: Int) -> Int { leafBits + level * nodeBits }
}

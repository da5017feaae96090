// SPDX-License-Identifier: Apache-2.0
import KHOCore

// The engine behind both zero-copy views: an index built once, when a view
// is opened, after every pointer of the preserved tree has been validated.
// Interior nodes are translated into small integer ids (so that a lookup
// never hashes a physical address); leaves are read in place through the
// `Bytes` handles that `PhysicalMemory` gave out, kept alive in `owners`.
// This file and _ShadowTree+Lists.swift hold the only raw pointer reads
// of the xarray format code.

/// A reference to a shadow node: tag in the low two bits.
///   0 empty, 1 interior node (id << 2), 2 leaf (id << 2), 3 range (id << 2)
typealias _ShadowRef = Int32

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
}

/// The lookup record for 64 keys of a leaf (see `_ShadowTree.wordTable`).
struct _WordEntry {
  /// Bit i set: an entry starts at key 64·w + i.
  var present: UInt64 = 0
  /// The address of the value of the first present key; low bit set when
  /// values sit by key (dense, wide), clear when packed by rank.
  var base: UInt = 0
}

struct _RangeInfo {
  var first: UInt64
  var last: UInt64
  var value: UInt64
  var marks: UInt8
}

/// One entry found by a search: its extent, value and marks.
struct _Hit {
  var first: UInt64
  var last: UInt64
  var value: UInt64
  var marks: UInt8
}

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
  @exclusivity(unchecked) var ranges: [_RangeInfo] = []
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
  @exclusivity(unchecked) var root: _ShadowRef = 0
  @exclusivity(unchecked) var rootLevel = 0
  /// The bits above the root's coverage that every key must have.
  @exclusivity(unchecked) var rootPrefix: UInt64 = 0
  @exclusivity(unchecked) var count = 0

  /// Copies of `children`, `leaves` and `rankTable` made by `freeze()`
  /// for the lookup fast path (reading the arrays of a class instance
  /// costs a retain and release per access).
  private(set) var frozenChildren: UnsafeMutablePointer<_ShadowRef>?
  private(set) var frozenLeaves: UnsafeMutablePointer<_LeafInfo>?
  private(set) var frozenRanks: UnsafeMutablePointer<UInt16>?
  private(set) var frozenPresent: UnsafeMutablePointer<UInt64>?
  private(set) var frozenFences: UnsafeMutablePointer<UInt64>?

  /// One word per leaf block from `blockBase` to the last block that has a
  /// leaf, when that is at most 8 words per leaf (or 2^16): the values
  /// pointer of a dense (tag 1) or v1 (tag 2) leaf, or a leaf reference
  /// shifted left by 3 (tag 4); 0 for no leaf. One load instead of a walk.
  private(set) var blockTable: UnsafeMutablePointer<UInt>?
  private(set) var blockBase: UInt64 = 0
  private(set) var blockCount: UInt64 = 0

  /// One record per 64 keys of the blocks that `blockTable` spans, built
  /// when the tree has packed or wide leaves (v2) and spans at most twice
  /// as many blocks as it has leaves: a lookup of a present key reads this
  /// record and then the value, nothing else. Empty records (present 0)
  /// and keys inside ranges fall through to the block table.
  private(set) var wordTable: UnsafeMutablePointer<_WordEntry>?

  /// Calls `body` with every leaf below `ref` and its block number.
  private func forEachLeaf(
    _ ref: _ShadowRef, level: Int, block: UInt64, _ body: (_ShadowRef, UInt64) -> Void
  ) {
    switch ref & 3 {
    case 1:
      let id = Int(ref >> 2)
      let shift = (level - 1) * nodeBits
      for j in 0..<(1 << nodeBits) {
        let c = children[(id << nodeBits) | j]
        if c & 3 == 1 || c & 3 == 2 {
          forEachLeaf(c, level: level - 1, block: block | (UInt64(j) << UInt64(shift)), body)
        }
      }
    case 2:
      // A list covers a whole subtree, not one block: lookups reach it
      // by the descent.
      if leaves[Int(ref >> 2)].kind != .list { body(ref, block) }
    default:
      break
    }
  }

  /// Ends building: takes the lookup copies and the block table.
  func freeze() {
    let top = coverBits(rootLevel)
    let first = top - leafBits >= 64 ? 0 : rootPrefix << UInt64(top - leafBits)
    var lo = UInt64.max
    var hi: UInt64 = 0
    forEachLeaf(root, level: rootLevel, block: first) { _, b in
      lo = Swift.min(lo, b)
      hi = Swift.max(hi, b)
    }
    if lo <= hi, hi - lo < UInt64(Swift.max(1 << 16, 8 * leaves.count)) {
      blockBase = lo
      blockCount = hi - lo + 1
      let t = UnsafeMutablePointer<UInt>.allocate(capacity: Int(blockCount))
      t.initialize(repeating: 0, count: Int(blockCount))
      forEachLeaf(root, level: rootLevel, block: first) { ref, b in
        let l = leaves[Int(ref >> 2)]
        let p = UInt(bitPattern: l.values)
        if p & 7 == 0 && l.kind == .dense {
          t[Int(b - lo)] = p | 1
        } else if p & 7 == 0 && l.kind == .v1 {
          t[Int(b - lo)] = p | 2
        } else {
          t[Int(b - lo)] = UInt(ref) << 3 | 4
        }
      }
      blockTable = t
      if leaves.contains(where: { $0.kind == .packed || $0.kind == .wide }), blockCount <= 2 * UInt64(leaves.count) {
        buildWordTable(first: first)
      }
    }
    func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
      let p = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(a.count, 1))
      _ = UnsafeMutableBufferPointer(start: p, count: a.count).initialize(from: a)
      return p
    }
    frozenChildren = copy(children)
    frozenLeaves = copy(leaves)
    frozenRanks = copy(rankTable)
    frozenPresent = copy(presentTable)
    frozenFences = copy(fences)
  }

  /// Fills `wordTable` from the leaves (after `blockTable`).
  private func buildWordTable(first: UInt64) {
    let perBlock = bitmapWords
    let words = Int(blockCount) * perBlock
    let t = UnsafeMutablePointer<_WordEntry>.allocate(capacity: words)
    t.initialize(repeating: _WordEntry(), count: words)
    forEachLeaf(root, level: rootLevel, block: first) { ref, b in
      let l = leaves[Int(ref >> 2)]
      let values = UInt(bitPattern: l.values)
      let row = Int(b - blockBase) * perBlock
      for w in 0..<perBlock {
        switch l.kind {
        case .dense:
          t[row + w] = _WordEntry(present: .max, base: (values + UInt(w * 512)) | 1)
        case .wide:
          t[row + w] = _WordEntry(present: presentTable[l.rankBase + w], base: (values + UInt(w * 512)) | 1)
        case .packed:
          t[row + w] = _WordEntry(
            present: presentTable[l.rankBase + w], base: values + UInt(rankTable[l.rankBase + w]) * 8)
        case .v1, .list:
          break
        }
      }
    }
    wordTable = t
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

  init(leafBits: Int, nodeBits: Int, order: ByteOrder) {
    self.leafBits = leafBits
    self.nodeBits = nodeBits
    self.order = order
    self.bitmapWords = (1 << leafBits) / 64
  }

  // MARK: Building (used by the openers)

  /// Adds an interior node with all slots empty; returns its reference.
  func addNode() -> _ShadowRef {
    let id = nodeCount
    nodeCount += 1
    children.append(contentsOf: repeatElement(0, count: 1 << nodeBits))
    slotMarks.append(contentsOf: repeatElement(0, count: 1 << nodeBits))
    return _ShadowRef(truncatingIfNeeded: id << 2 | 1)
  }

  /// Adds a leaf over `bytes` (kept alive); returns its reference.
  func addLeaf(_ kind: _LeafKind, values: Bytes, meta: Bytes?) -> _ShadowRef {
    owners.append(values)
    var info = _LeafInfo(kind: kind, values: Self.base(values), meta: nil, rankBase: rankTable.count)
    if let meta {
      owners.append(meta)
      let m = Self.base(meta)
      info.meta = m
      var acc = 0
      for w in 0..<bitmapWords {
        let word = load(m, w * 8)
        rankTable.append(UInt16(truncatingIfNeeded: acc))
        presentTable.append(word)
        acc += word.nonzeroBitCount
      }
    }
    let id = leaves.count
    leaves.append(info)
    return _ShadowRef(truncatingIfNeeded: id << 2 | 2)
  }

  /// Adds a list leaf of `count` entries over `keys`, `values` and the
  /// three mark bitmaps `marks` (kept alive); returns its reference.
  func addList(keys: Bytes, values: Bytes, marks: Bytes, count: Int) -> _ShadowRef {
    owners.append(contentsOf: [keys, values, marks])
    let k = Self.base(keys)
    let fenceBase = fences.count
    for i in stride(from: 0, to: count, by: _listRun) { fences.append(load(k, i * 8)) }
    let id = leaves.count
    leaves.append(
      _LeafInfo(
        kind: .list, values: Self.base(values), meta: Self.base(marks), rankBase: 0, count: count,
        keys: k, fenceBase: fenceBase))
    return _ShadowRef(truncatingIfNeeded: id << 2 | 2)
  }

  func addRange(_ r: _RangeInfo) -> _ShadowRef {
    let id = ranges.count
    ranges.append(r)
    return _ShadowRef(truncatingIfNeeded: id << 2 | 3)
  }

  static func base(_ b: Bytes) -> UnsafeRawPointer {
    b.withUnsafeBytes { $0.baseAddress ?? UnsafeRawPointer(bitPattern: 8).unsafelyUnwrapped }
  }

  /// Reads a u64 at `offset` from `p`, in the image's byte order.
  @inline(__always) func load(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
    let raw = p.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
    return order == .little ? UInt64(littleEndian: raw) : UInt64(bigEndian: raw)
  }

  // MARK: Geometry

  /// Bits of key covered by one slot of a node at `level` (level >= 1).
  @inline(__always) func slotBits(_ level: Int) -> Int { leafBits + (level - 1) * nodeBits }
  /// Bits of key covered by a whole node (or leaf) at `level`.
  @inline(__always) func coverBits(_ level: Int) -> Int { leafBits + level * nodeBits }

  // MARK: Leaves

  @inline(__always) func bit(_ m: UnsafeRawPointer, _ table: Int, _ i: Int) -> Bool {
    (load(m, (table * bitmapWords + (i >> 6)) * 8) >> UInt64(i & 63)) & 1 != 0
  }

  /// The value of the entry whose head is at `head` in leaf `l`.
  @inline(__always) func value(_ l: _LeafInfo, head: Int) -> UInt64 {
    switch l.kind {
    case .v1, .dense, .wide, .list:
      return load(l.values, head * 8)
    case .packed:
      guard let m = l.meta else { return 0 }
      let w = head >> 6
      let word = load(m, w * 8)
      let rank = Int(rankTable[l.rankBase + w]) + (word & ((1 << UInt64(head & 63)) &- 1)).nonzeroBitCount
      return load(l.values, rank * 8)
    }
  }

  /// Whether an entry starts at `i`.
  @inline(__always) func isHead(_ l: _LeafInfo, _ i: Int) -> Bool {
    switch l.kind {
    case .v1: return load(l.values, i * 8) != 0
    case .dense: return true
    case .list: return false
    case .packed, .wide:
      guard let m = l.meta else { return false }
      return bit(m, 0, i)
    }
  }

  /// The head of the entry covering `i`, if any.
  func head(_ l: _LeafInfo, covering i: Int) -> Int? {
    if isHead(l, i) { return i }
    guard let m = l.meta, bit(m, 1, i) else { return nil }
    var h = i
    while h > 0 {
      h -= 1
      if bit(m, 0, h) { return h }
    }
    return nil
  }

  /// The last key of the entry whose head is `h`.
  func end(_ l: _LeafInfo, head h: Int) -> Int {
    guard let m = l.meta else { return h }
    var e = h
    while e + 1 < (1 << leafBits) && bit(m, 1, e + 1) { e += 1 }
    return e
  }

  func marks(_ l: _LeafInfo, head h: Int) -> UInt8 {
    guard let m = l.meta else { return 0 }
    var r: UInt8 = 0
    for k in 0..<3 where bit(m, 2 + k, h) { r |= 1 << UInt8(k) }
    return r
  }

  /// The first head at or after `i` (with mark `mk`, when mk >= 0).
  func nextHead(_ l: _LeafInfo, from i: Int, mark mk: Int) -> Int? {
    let n = 1 << leafBits
    switch l.kind {
    case .v1:
      if mk >= 0 { return nil }
      var j = i
      while j < n {
        if load(l.values, j * 8) != 0 { return j }
        j += 1
      }
      return nil
    case .dense:
      return mk >= 0 || i >= n ? nil : i
    case .list:
      return nil
    case .packed, .wide:
      guard let m = l.meta else { return nil }
      let table = mk >= 0 ? 2 + mk : 0
      var w = i >> 6
      var word = load(m, (table * bitmapWords + w) * 8) & ~((1 << UInt64(i & 63)) &- 1)
      while true {
        if word != 0 { return w * 64 + word.trailingZeroBitCount }
        w += 1
        if w >= bitmapWords { return nil }
        word = load(m, (table * bitmapWords + w) * 8)
      }
    }
  }

  /// The last head at or before `i` (with mark `mk`, when mk >= 0).
  func previousHead(_ l: _LeafInfo, through i: Int, mark mk: Int) -> Int? {
    switch l.kind {
    case .v1:
      if mk >= 0 { return nil }
      var j = i
      while j >= 0 {
        if load(l.values, j * 8) != 0 { return j }
        j -= 1
      }
      return nil
    case .dense:
      return mk >= 0 ? nil : i
    case .list:
      return nil
    case .packed, .wide:
      guard let m = l.meta else { return nil }
      let table = mk >= 0 ? 2 + mk : 0
      var w = i >> 6
      let keep: UInt64 = i & 63 == 63 ? .max : (1 << UInt64((i & 63) + 1)) &- 1
      var word = load(m, (table * bitmapWords + w) * 8) & keep
      while true {
        if word != 0 { return w * 64 + 63 - word.leadingZeroBitCount }
        w -= 1
        if w < 0 { return nil }
        word = load(m, (table * bitmapWords + w) * 8)
      }
    }
  }

  func hit(_ l: _LeafInfo, _ base: UInt64, head h: Int) -> _Hit {
    _Hit(
      first: base | UInt64(h), last: base | UInt64(end(l, head: h)), value: value(l, head: h),
      marks: marks(l, head: h))
  }

  // MARK: Queries

  /// The entry covering `key`.
  func find(_ key: UInt64) -> _Hit? {
    let cb = coverBits(rootLevel)
    guard cb >= 64 || key >> UInt64(cb) == rootPrefix else { return nil }
    var ref = root
    var level = rootLevel
    while true {
      let id = Int(ref >> 2)
      switch ref & 3 {
      case 1:
        let sb = slotBits(level)
        let idx = Int(truncatingIfNeeded: (key >> UInt64(sb)) & ((1 << UInt64(nodeBits)) &- 1))
        ref = children[(id << nodeBits) | idx]
        level -= 1
      case 2:
        let l = leaves[id]
        if l.kind == .list { return listPosition(l, key).map { listHit(l, $0) } }
        let i = Int(truncatingIfNeeded: key & ((1 << UInt64(leafBits)) &- 1))
        if l.kind == .dense || l.kind == .v1 {
          let v = load(l.values, i * 8)
          if l.kind == .v1 && v == 0 { return nil }
          return _Hit(first: key, last: key, value: v, marks: 0)
        }
        guard let h = head(l, covering: i) else { return nil }
        return hit(l, key & ~((1 << UInt64(leafBits)) &- 1), head: h)
      case 3:
        let r = ranges[id]
        return r
          .first <= key && key <= r.last
          ? _Hit(first: r.first, last: r.last, value: r.value, marks: r.marks) : nil
      default:
        return nil
      }
    }
  }

  /// The value at `key` alone (the lookup fast path).
  @inline(__always) func value(at key: UInt64) -> UInt64? {
    let top = leafBits &+ rootLevel &* nodeBits
    guard top >= 64 || key >> UInt64(top) == rootPrefix,
      let ch = frozenChildren, let lv = frozenLeaves, let rk = frozenRanks,
      let pt = frozenPresent
    else { return nil }
    let block = (key >> UInt64(leafBits)) &- blockBase
    // The word table spans the block table's blocks: the same range check.
    if let wt = wordTable, block < blockCount {
      let w = (key >> 6) &- (blockBase << UInt64(leafBits &- 6))
      let e = wt[Int(truncatingIfNeeded: w)]
      let b = key & 63
      if (e.present >> b) & 1 != 0 {
        let p = UnsafeRawPointer(bitPattern: e.base & ~1).unsafelyUnwrapped
        if e.base & 1 != 0 { return load(p, Int(truncatingIfNeeded: b) &* 8) }
        return load(p, (e.present & ((1 << b) &- 1)).nonzeroBitCount &* 8)
      }
    }
    var ref = root
    if let t = blockTable, block < blockCount, case let e = t[Int(truncatingIfNeeded: block)], e != 0 {
      let i = Int(truncatingIfNeeded: key & ((1 << UInt64(leafBits)) &- 1))
      if e & 1 != 0 {
        return load(UnsafeRawPointer(bitPattern: e & ~7).unsafelyUnwrapped, i &* 8)
      }
      if e & 2 != 0 {
        let v = load(UnsafeRawPointer(bitPattern: e & ~7).unsafelyUnwrapped, i &* 8)
        return v == 0 ? nil : v
      }
      ref = _ShadowRef(truncatingIfNeeded: e >> 3)
    } else {
      var level = rootLevel
      let mask: UInt64 = (1 << UInt64(nodeBits)) &- 1
      while ref & 3 == 1 {
        let sb = leafBits &+ (level &- 1) &* nodeBits
        ref = ch[(Int(ref >> 2) << nodeBits) | Int(truncatingIfNeeded: (key >> UInt64(sb)) & mask)]
        level &-= 1
      }
    }
    if ref & 3 == 2 {
      let l = lv[Int(ref >> 2)]
      let i = Int(truncatingIfNeeded: key & ((1 << UInt64(leafBits)) &- 1))
      switch l.kind {
      case .dense:
        return load(l.values, i &* 8)
      case .v1:
        let v = load(l.values, i &* 8)
        return v == 0 ? nil : v
      case .packed:
        let w = i >> 6
        let word = pt[l.rankBase &+ w]
        if (word >> UInt64(i & 63)) & 1 != 0 {
          let below = word & ((1 << UInt64(i & 63)) &- 1)
          return load(l.values, (Int(rk[l.rankBase &+ w]) &+ below.nonzeroBitCount) &* 8)
        }
      case .wide:
        if (pt[l.rankBase &+ (i >> 6)] >> UInt64(i & 63)) & 1 != 0 { return load(l.values, i &* 8) }
      case .list:
        return listPosition(l, key).map { load(l.values, $0 &* 8) }
      }
    } else if ref == 0 {
      return nil
    }
    // Ranges and keys inside a range's siblings take the general path.
    return find(key)?.value
  }

  /// The first entry with an index >= `a` (with mark `mk` if >= 0).
  func next(from a: UInt64, mark mk: Int) -> _Hit? {
    let cb = coverBits(rootLevel)
    var start = a
    if cb < 64 {
      let p = a >> UInt64(cb)
      if p > rootPrefix { return nil }
      if p < rootPrefix { start = rootPrefix << UInt64(cb) }
    }
    return next(root, level: rootLevel, start, mk)
  }

  private func next(_ ref: _ShadowRef, level: Int, _ a: UInt64, _ mk: Int) -> _Hit? {
    let id = Int(ref >> 2)
    switch ref & 3 {
    case 1:
      let sb = slotBits(level)
      let fan = 1 << nodeBits
      let i0 = Int(truncatingIfNeeded: (a >> UInt64(sb)) & UInt64(fan - 1))
      let nodeBase = coverBits(level) >= 64 ? 0 : a & ~((1 << UInt64(coverBits(level))) &- 1)
      var lastRange: _ShadowRef = 0
      for j in i0..<fan {
        if sb < 64 && j > 0 && UInt64(j) > (UInt64.max >> UInt64(sb)) { break }
        let slot = (id << nodeBits) | j
        let c = children[slot]
        if c == 0 || c == lastRange { continue }
        if mk >= 0 && slotMarks[slot] & (1 << UInt8(mk)) == 0 { continue }
        if c & 3 == 3 { lastRange = c }
        let start = j == i0 ? a : nodeBase | (UInt64(j) << UInt64(sb))
        if let h = next(c, level: level - 1, start, mk) { return h }
      }
      return nil
    case 2:
      let l = leaves[id]
      if l.kind == .list { return listNext(l, a, mk) }
      let base = a & ~((1 << UInt64(leafBits)) &- 1)
      let i = Int(truncatingIfNeeded: a & ((1 << UInt64(leafBits)) &- 1))
      if let h = head(l, covering: i), h < i {
        let e = hit(l, base, head: h)
        if mk < 0 || e.marks & (1 << UInt8(mk)) != 0 { return e }
      }
      guard let h = nextHead(l, from: i, mark: mk) else { return nil }
      return hit(l, base, head: h)
    case 3:
      let r = ranges[id]
      guard r.last >= a, mk < 0 || r.marks & (1 << UInt8(mk)) != 0 else { return nil }
      return _Hit(first: r.first, last: r.last, value: r.value, marks: r.marks)
    default:
      return nil
    }
  }

  /// The last entry with an index <= `a` (with mark `mk` if >= 0).
  func previous(through a: UInt64, mark mk: Int) -> _Hit? {
    let cb = coverBits(rootLevel)
    var start = a
    if cb < 64 {
      let p = a >> UInt64(cb)
      if p < rootPrefix { return nil }
      if p > rootPrefix { start = (rootPrefix << UInt64(cb)) | ((1 << UInt64(cb)) &- 1) }
    }
    return previous(root, level: rootLevel, start, mk)
  }

  private func previous(_ ref: _ShadowRef, level: Int, _ a: UInt64, _ mk: Int) -> _Hit? {
    let id = Int(ref >> 2)
    switch ref & 3 {
    case 1:
      let sb = slotBits(level)
      let fan = 1 << nodeBits
      let i0 = Int(truncatingIfNeeded: (a >> UInt64(sb)) & UInt64(fan - 1))
      let nodeBase = coverBits(level) >= 64 ? 0 : a & ~((1 << UInt64(coverBits(level))) &- 1)
      var lastRange: _ShadowRef = 0
      for j in stride(from: i0, through: 0, by: -1) {
        let slot = (id << nodeBits) | j
        let c = children[slot]
        if c == 0 || c == lastRange { continue }
        if mk >= 0 && slotMarks[slot] & (1 << UInt8(mk)) == 0 { continue }
        if c & 3 == 3 { lastRange = c }
        let start =
          j == i0 ? a : nodeBase | (UInt64(j) << UInt64(sb)) | ((1 << UInt64(sb)) &- 1)
        if let h = previous(c, level: level - 1, start, mk) { return h }
      }
      return nil
    case 2:
      let l = leaves[id]
      if l.kind == .list { return listPrevious(l, a, mk) }
      let base = a & ~((1 << UInt64(leafBits)) &- 1)
      let i = Int(truncatingIfNeeded: a & ((1 << UInt64(leafBits)) &- 1))
      if let h = head(l, covering: i) {
        let e = hit(l, base, head: h)
        if mk < 0 || e.marks & (1 << UInt8(mk)) != 0 { return e }
        if h == 0 { return nil }
        guard let p = previousHead(l, through: h - 1, mark: mk) else { return nil }
        return hit(l, base, head: p)
      }
      guard let h = previousHead(l, through: i, mark: mk) else { return nil }
      return hit(l, base, head: h)
    case 3:
      let r = ranges[id]
      guard r.first <= a, mk < 0 || r.marks & (1 << UInt8(mk)) != 0 else { return nil }
      return _Hit(first: r.first, last: r.last, value: r.value, marks: r.marks)
    default:
      return nil
    }
  }
}

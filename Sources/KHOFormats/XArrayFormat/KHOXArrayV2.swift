// SPDX-License-Identifier: Apache-2.0
import KHOCore
import XArray

/// kho-xarray-v2: the toolkit's own preserved xarray.
///
/// What v1 cannot say, v2 can: a self-describing 64-byte header (magic,
/// version, page size, key width, a depth fitted to the largest index,
/// entry count, flags); a stored 0 distinct from "absent"; three marks per
/// entry with summaries in every node; range entries of `2^order` indices;
/// and a CRC-32C of every page, held in the slot that points to it, so a
/// corrupted page is detected and located. Dense data takes as many pages
/// as v1. See Specs/kho-xarray-v2.md for the layout and the reason of every
/// field.
public enum KHOXArrayV2 {
  /// "HXA2" as four ASCII bytes when read little-endian.
  public static let magic: UInt32 = 0x3241_5848
  /// The format version.
  public static let version: UInt16 = 2
  /// Size of the header in bytes.
  public static let headerSize = 64
  /// Size of one slot of an interior node in bytes.
  public static let slotSize = 16

  /// Header flag: some entry carries a mark.
  public static let flagHasMarks: UInt8 = 1
  /// Header flag: some entry is a range entry.
  public static let flagHasRanges: UInt8 = 2
  /// Header flag: some slot is a list leaf (a reader that predates list
  /// leaves refuses the structure at the header, not halfway through).
  public static let flagHasLists: UInt8 = 4
  /// Header flag: the list leaves hold (index, value) pairs instead of all
  /// indices and then all values (``ListLayout/paired``); set only with
  /// ``flagHasLists``. A reader from before it refuses the structure at
  /// the header.
  public static let flagPairedLists: UInt8 = 8

  /// How list leaves lay out their entries.
  ///
  /// Both hold the same bytes in the same pages; ``paired`` puts each index
  /// on the 16 bytes it shares with its value, where ``separate`` keeps
  /// the values a page or more after the indices. Measured on random
  /// 48-bit keys, paired lookups are not faster: the bisection reads
  /// indices 16 bytes apart, so it touches more lines than the one it
  /// saves for the value (Benchmarks/README.md).
  public enum ListLayout: Sendable, Hashable, CaseIterable {
    /// The n indices, then the n values (list leaves as first written).
    case separate
    /// n pairs (index, value); header flag ``flagPairedLists``.
    case paired
  }

  /// What a slot (of the header's root or of a node) holds.
  public enum SlotKind: UInt8, Sendable, CaseIterable {
    case empty = 0
    /// An interior node page.
    case node = 1
    /// A leaf page holding every value of its block.
    case denseLeaf = 2
    /// A leaf page with bitmaps and values packed in index order.
    case packedLeaf = 3
    /// Two pages: values by index, then the bitmaps.
    case wideLeaf = 4
    /// A range entry: the value is in the slot itself.
    case range = 5
    /// A slot covered by the range entry in a slot before it.
    case sibling = 6
    /// Sorted (index, value) pairs of a sparse subtree, over one or more
    /// contiguous pages.
    case listLeaf = 7
  }

  /// Key bits of one leaf block: log2(pageSize / 8).
  public static func leafBits(_ g: PageGeometry) -> Int { g.pageShift - 3 }
  /// Key bits of one interior node: log2(pageSize / 16).
  public static func nodeBits(_ g: PageGeometry) -> Int { g.pageShift - 4 }
  /// Bytes of one leaf bitmap: pageSize / 64.
  public static func bitmapBytes(_ g: PageGeometry) -> Int { g.pageSize / 64 }
  /// Bytes before the values of a packed leaf: 8 + 5 bitmaps.
  public static func packedHeaderBytes(_ g: PageGeometry) -> Int { 8 + 5 * bitmapBytes(g) }
  /// The most entries a packed leaf holds (471 with 4 KiB pages).
  public static func packedCapacity(_ g: PageGeometry) -> Int {
    (g.pageSize - packedHeaderBytes(g)) / 8
  }

  /// Bytes before a list leaf's mark bitmaps: count, pages, reserved.
  public static let listHeaderBytes = 16
  /// The most pages one list leaf spans.
  public static let maxListPages = 64
  /// Bytes a list leaf of `count` entries uses: its header, three mark
  /// bitmaps of one bit per entry (whole words), the indices, the values.
  public static func listBytes(count: Int) -> Int {
    listHeaderBytes + 24 * ((count + 63) / 64) + 16 * count
  }
  /// Where a list leaf of `count` entries keeps its first index and its
  /// first value, and the bytes from one entry's index (or value) to the
  /// next's, in `layout`.
  public static func listOffsets(count: Int, _ layout: ListLayout) -> (indices: Int, values: Int, step: Int) {
    let at = listHeaderBytes + 24 * ((count + 63) / 64)
    return layout == .paired ? (at, at + 8, 16) : (at, at + 8 * count, 8)
  }
  /// Pages of a list leaf of `count` entries.
  public static func listPages(count: Int, _ g: PageGeometry) -> Int {
    (listBytes(count: count) + g.pageSize - 1) >> g.pageShift
  }

  /// Interior levels needed for indices of `keyBits` bits.
  public static func depth(keyBits: Int, _ g: PageGeometry) -> Int {
    let l = leafBits(g)
    let n = nodeBits(g)
    return keyBits <= l ? 0 : (keyBits - l + n - 1) / n
  }

  /// The parsed header.
  public struct Header: Hashable, Sendable, CustomStringConvertible {
    public var pageShift: Int
    /// Bit width of the largest index (0 when empty).
    public var keyBits: Int
    /// Interior levels above the leaves.
    public var depth: Int
    public var flags: UInt8
    public var count: UInt64
    public var rootKind: SlotKind
    public var rootMarks: UInt8

    public var description: String {
      "kho-xarray-v2: \(count) entries, \(keyBits)-bit keys, depth \(depth), "
        + "\(1 << pageShift)-byte pages, flags 0x\(String(flags, radix: 16))"
    }
  }

  /// Writes `array` into `image`; returns the header's address.
  ///
  /// The header takes the first page; then every node is allocated before
  /// its children, depth first, in index order, so the same array always
  /// gives the same bytes. Every value, mark and range is representable.
  ///
  /// `lists` chooses the list leaves' layout. The default, ``ListLayout/separate``,
  /// is what every kho-xarray-v2 reader can read; ``ListLayout/paired``
  /// needs a reader that knows ``flagPairedLists``.
  public static func encode(
    _ array: XArray<UInt64>, into image: PhysicalImage, allocator: inout PageAllocator,
    lists: ListLayout = .separate, path: DecodePath = "/xarray"
  ) throws(EncodeError) -> PhysAddr {
    let g = image.geometry
    let entries = array.allEntries
    let headerAddr = try allocator.allocate(in: image)
    var w = _V2Writer(g: g, image: image, entries: entries, listLayout: lists)
    var keyBits = 0
    if let last = entries.last {
      keyBits = 64 - last.lastIndex.leadingZeroBitCount
    }
    let depth = depth(keyBits: keyBits, g)
    let root = try w.build(level: depth, 0, entries.count, allocator: &allocator)
    var flags: UInt8 = 0
    if entries.contains(where: { !$0.marks.isEmpty }) { flags |= flagHasMarks }
    if entries.contains(where: { $0.order != 0 }) { flags |= flagHasRanges }
    if w.wroteList { flags |= flagHasLists | (lists == .paired ? flagPairedLists : 0) }
    var h = [UInt8](repeating: 0, count: headerSize)
    func put<T: FixedWidthInteger>(_ v: T, _ off: Int) {
      let x = g.byteOrder == .little ? v.littleEndian : v.bigEndian
      withUnsafeBytes(of: x) { for (i, b) in $0.enumerated() { h[off + i] = b } }
    }
    put(magic, 0)
    put(version, 4)
    h[6] = UInt8(g.pageShift)
    h[7] = UInt8(keyBits)
    h[8] = UInt8(depth)
    h[9] = flags
    put(UInt64(entries.count), 16)
    w.putSlot(root, into: &h, at: 32)
    put(CRC32C.checksum(h), 12)
    image.write(h, at: headerAddr)
    return headerAddr
  }

  /// Reads a whole kho-xarray-v2 structure into an `XArray`, validating it
  /// and every checksum.
  public static func decode(
    from memory: any PhysicalMemory, at header: PhysAddr, path: DecodePath = "/xarray"
  ) throws(DecodeError) -> XArray<UInt64> {
    try KHOXArrayV2View(memory: memory, at: header, path: path, verifyChecksums: true).makeXArray()
  }

  /// ``decode(from:at:path:)`` as an outcome: the structure is checked
  /// whole (checksums cover it), so the value is all of it or `nil` with
  /// the first problem.
  public static func decodeReporting(
    from memory: any PhysicalMemory, at header: PhysAddr, path: DecodePath = "/xarray"
  ) -> DecodeOutcome<XArray<UInt64>> {
    .collect { (_) throws(DecodeError) in try decode(from: memory, at: header, path: path) }
  }
}

/// A slot's fields, as written.
struct _V2Slot {
  var word: UInt64 = 0
  var crc: UInt32 = 0
  var kind: KHOXArrayV2.SlotKind = .empty
  var marks: UInt8 = 0
  var order: UInt8 = 0
}

/// The encoder's state: the entries and where they go.
struct _V2Writer {
  let g: PageGeometry
  let image: PhysicalImage
  let entries: [XArrayEntry<UInt64>]
  /// The list leaves' layout.
  let listLayout: KHOXArrayV2.ListLayout
  /// Whether some slot became a list leaf.
  var wroteList = false

  /// Stores `v` at `off` in `buf` (which is long enough), in image order.
  func put<T: FixedWidthInteger>(_ v: T, into buf: inout [UInt8], at off: Int) {
    let x = g.byteOrder == .little ? v.littleEndian : v.bigEndian
    buf.withUnsafeMutableBytes { $0.storeBytes(of: x, toByteOffset: off, as: T.self) }
  }

  func putSlot(_ s: _V2Slot, into buf: inout [UInt8], at off: Int) {
    put(s.word, into: &buf, at: off)
    put(s.crc, into: &buf, at: off + 8)
    buf[off + 12] = s.kind.rawValue
    buf[off + 13] = s.marks
    buf[off + 14] = s.order
    buf[off + 15] = 0
  }

  /// The slot for entries `[p, q)`, which lie in one aligned block of
  /// `coverBits(level)` bits.
  mutating func build(level: Int, _ p: Int, _ q: Int, allocator: inout PageAllocator)
    throws(EncodeError) -> _V2Slot
  {
    if p == q { return _V2Slot() }
    let lb = KHOXArrayV2.leafBits(g)
    let nb = KHOXArrayV2.nodeBits(g)
    let cover = lb + level * nb
    if q - p == 1 && entries[p].order >= Swift.min(cover, 64) {
      let e = entries[p]
      return _V2Slot(word: e.element, kind: .range, marks: e.marks.rawValue, order: UInt8(e.order))
    }
    if level == 0 { return try leaf(p, q, allocator: &allocator) }
    if let l = try list(p, q, allocator: &allocator) { return l }
    let page = try allocator.allocate(in: image)
    let sb = lb + (level - 1) * nb
    let fan = 1 << nb
    var buf = [UInt8](repeating: 0, count: g.pageSize)
    var marks: UInt8 = 0
    var i = p
    while i < q {
      let slot = Int(truncatingIfNeeded: (entries[i].index >> UInt64(sb)) & UInt64(fan - 1))
      let e = entries[i]
      if e.order >= sb && e.order > 0 {
        let n = 1 << (e.order - sb)
        putSlot(
          _V2Slot(word: e.element, kind: .range, marks: e.marks.rawValue, order: UInt8(e.order)),
          into: &buf, at: slot * 16)
        for k in 1..<n where slot + k < fan {
          putSlot(_V2Slot(kind: .sibling), into: &buf, at: (slot + k) * 16)
        }
        marks |= e.marks.rawValue
        i += 1
        continue
      }
      var j = i + 1
      while j < q && (entries[j].index >> UInt64(sb)) & UInt64(fan - 1) == UInt64(slot)
        && entries[j].order < sb
      {
        j += 1
      }
      let child = try build(level: level - 1, i, j, allocator: &allocator)
      putSlot(child, into: &buf, at: slot * 16)
      marks |= child.marks
      i = j
    }
    image.write(buf, at: page)
    return _V2Slot(word: page.rawValue, crc: CRC32C.checksum(buf), kind: .node, marks: marks)
  }

  /// A list leaf for entries `[p, q)` of a slot above the leaf level,
  /// when they are all single indices, fit `maxListPages` and take fewer
  /// pages than the leaf blocks they fall in (the tree below the slot
  /// needs at least one page per block, plus a node); else nil.
  mutating func list(_ p: Int, _ q: Int, allocator: inout PageAllocator) throws(EncodeError)
    -> _V2Slot?
  {
    let n = q - p
    let pages = KHOXArrayV2.listPages(count: n, g)
    guard pages <= KHOXArrayV2.maxListPages else { return nil }
    let lb = UInt64(KHOXArrayV2.leafBits(g))
    var blocks = 0
    var lastBlock: UInt64? = nil
    for e in entries[p..<q] {
      guard e.order == 0 else { return nil }
      if e.index >> lb != lastBlock {
        blocks += 1
        lastBlock = e.index >> lb
      }
    }
    guard pages < blocks else { return nil }
    let words = (n + 63) / 64
    let (keysAt, valuesAt, step) = KHOXArrayV2.listOffsets(count: n, listLayout)
    var buf = [UInt8](repeating: 0, count: pages * g.pageSize)
    put(UInt32(n), into: &buf, at: 0)
    put(UInt32(pages), into: &buf, at: 4)
    var bm = [UInt64](repeating: 0, count: 3 * words)
    var marks: UInt8 = 0
    for (k, e) in entries[p..<q].enumerated() {
      put(e.index, into: &buf, at: keysAt + step * k)
      put(e.element, into: &buf, at: valuesAt + step * k)
      for m in 0..<3 where e.marks.rawValue & (1 << m) != 0 {
        bm[m * words + (k >> 6)] |= 1 << UInt64(k & 63)
      }
      marks |= e.marks.rawValue
    }
    for (k, word) in bm.enumerated() { put(word, into: &buf, at: KHOXArrayV2.listHeaderBytes + 8 * k) }
    let page = try allocator.allocate(pages: pages, in: image)
    image.write(buf, at: page)
    wroteList = true
    return _V2Slot(word: page.rawValue, crc: CRC32C.checksum(buf), kind: .listLeaf, marks: marks)
  }

  /// A leaf for entries `[p, q)` of one block (orders below leafBits).
  mutating func leaf(_ p: Int, _ q: Int, allocator: inout PageAllocator) throws(EncodeError)
    -> _V2Slot
  {
    let lb = KHOXArrayV2.leafBits(g)
    let n = 1 << lb
    let mask = UInt64(n - 1)
    let heads = q - p
    var marks: UInt8 = 0
    let simple = entries[p..<q].allSatisfy { $0.order == 0 && $0.marks.isEmpty }
    if heads == n && simple {
      var buf = [UInt8](repeating: 0, count: g.pageSize)
      for (k, e) in entries[p..<q].enumerated() { put(e.element, into: &buf, at: k * 8) }
      let page = try allocator.allocate(in: image)
      image.write(buf, at: page)
      return _V2Slot(word: page.rawValue, crc: CRC32C.checksum(buf), kind: .denseLeaf)
    }
    // The bitmaps: present, sibling, mark0, mark1, mark2.
    let words = n / 64
    var bm = [UInt64](repeating: 0, count: 5 * words)
    for e in entries[p..<q] {
      let i = Int(e.index & mask)
      bm[i >> 6] |= 1 << UInt64(i & 63)
      for k in 1..<(1 << e.order) {
        bm[words + ((i + k) >> 6)] |= 1 << UInt64((i + k) & 63)
      }
      for m in 0..<3 where e.marks.rawValue & (1 << m) != 0 {
        bm[(2 + m) * words + (i >> 6)] |= 1 << UInt64(i & 63)
      }
      marks |= e.marks.rawValue
    }
    var meta = [UInt8](repeating: 0, count: 8 + 8 * bm.count)
    put(UInt32(heads), into: &meta, at: 0)
    for (k, word) in bm.enumerated() { put(word, into: &meta, at: 8 + 8 * k) }
    if heads <= KHOXArrayV2.packedCapacity(g) {
      var buf = meta + [UInt8](repeating: 0, count: g.pageSize - meta.count)
      for (k, e) in entries[p..<q].enumerated() { put(e.element, into: &buf, at: meta.count + 8 * k) }
      let page = try allocator.allocate(in: image)
      image.write(buf, at: page)
      return _V2Slot(word: page.rawValue, crc: CRC32C.checksum(buf), kind: .packedLeaf, marks: marks)
    }
    var buf = [UInt8](repeating: 0, count: 2 * g.pageSize)
    for e in entries[p..<q] { put(e.element, into: &buf, at: Int(e.index & mask) * 8) }
    buf.replaceSubrange(g.pageSize..<g.pageSize + meta.count, with: meta)
    let page = try allocator.allocate(pages: 2, in: image)
    image.write(buf, at: page)
    return _V2Slot(word: page.rawValue, crc: CRC32C.checksum(buf), kind: .wideLeaf, marks: marks)
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore
import XArray

/// A zero-copy reader of a kho-xarray-v2 structure in captured memory.
///
///     let view = try KHOXArrayV2View(memory: image, at: header)
///     view.load(0x42)
///     view.firstIndex(from: 0, marked: .mark0)
///     view.entries(from: 0, marked: .mark1)
///
/// Opening checks the header (magic, version, page size, depth against the
/// key width, CRC), then every slot and page: kinds, alignment, capture,
/// each page reached once, range orders and alignment, leaf counts and
/// bitmaps, mark summaries, the entry count and, unless told not to, every
/// page's CRC-32C. Errors name the slot path and the physical address.
public final class KHOXArrayV2View: KHOXArrayReading, @unchecked Sendable {
  /// The memory read.
  public let memory: any PhysicalMemory
  /// The header's address.
  public let address: PhysAddr
  /// The parsed header.
  public let header: KHOXArrayV2.Header
  let shadow: _ShadowTree

  /// Opens the structure whose header is at `address`.
  public init(
    memory: any PhysicalMemory, at address: PhysAddr, path: DecodePath = "/xarray",
    verifyChecksums: Bool = true
  ) throws(DecodeError) {
    self.memory = memory
    self.address = address
    let g = memory.geometry
    var r = try memory.reader(at: address, count: KHOXArrayV2.headerSize, path: path)
    let magic = try r.u32()
    guard magic == KHOXArrayV2.magic else {
      let swapped = magic.byteSwapped == KHOXArrayV2.magic
      throw r.error(
        .badMagic,
        swapped
          ? "magic is byte-swapped: the structure was written in the other byte order"
          : "magic 0x\(String(magic, radix: 16)) is not kho-xarray-v2 (0x\(String(KHOXArrayV2.magic, radix: 16)))",
        at: 0)
    }
    let version = try r.u16()
    guard version == KHOXArrayV2.version else {
      throw r.error(.unknownVersion, "version \(version); this reader knows version 2", at: 4)
    }
    let pageShift = Int(try r.u8())
    guard pageShift == g.pageShift else {
      throw r.error(
        .inconsistent, "written for 2^\(pageShift)-byte pages, memory has \(g.pageSize)", at: 6)
    }
    let keyBits = Int(try r.u8())
    let depth = Int(try r.u8())
    let flags = try r.u8()
    let reserved = try r.u16()
    let storedCRC = try r.u32()
    let count = try r.u64()
    let reserved2 = try r.u64()
    guard keyBits <= 64 else { throw r.error(.outOfRange, "key width \(keyBits) bits", at: 7) }
    guard depth == KHOXArrayV2.depth(keyBits: keyBits, g) else {
      throw r.error(
        .inconsistent,
        "depth \(depth) does not fit \(keyBits)-bit keys (expected \(KHOXArrayV2.depth(keyBits: keyBits, g)))",
        at: 8)
    }
    let known =
      KHOXArrayV2.flagHasMarks | KHOXArrayV2.flagHasRanges | KHOXArrayV2.flagHasLists
      | KHOXArrayV2.flagPairedLists
    guard flags & ~known == 0,
      reserved == 0, reserved2 == 0
    else { throw r.error(.unsupported, "unknown flags or non-zero reserved header fields", at: 9) }
    if verifyChecksums {
      var copy = r.bytes.array
      for i in 12..<16 { copy[i] = 0 }
      for i in 48..<64 where copy[i] != 0 {
        throw r.error(.unsupported, "non-zero reserved header bytes", at: i)
      }
      let crc = CRC32C.checksum(copy)
      guard crc == storedCRC else {
        throw r.error(
          .inconsistent,
          "header checksum 0x\(String(storedCRC, radix: 16)) != computed 0x\(String(crc, radix: 16)): header corrupted",
          at: 12)
      }
    }
    let s = _ShadowTree(
      leafBits: KHOXArrayV2.leafBits(g), nodeBits: KHOXArrayV2.nodeBits(g), order: g.byteOrder)
    self.shadow = s
    var w = _V2Walker(
      s: s, memory: memory, verify: verifyChecksums, visited: [], maxIndex: nil, marks: 0,
      ranges: false, lists: false,
      listLayout: flags & KHOXArrayV2.flagPairedLists != 0 ? .paired : .separate)
    let rootSlot = try w.slot(
      r, at: 32, path: path.appending("root"), address: address.advanced(by: 32) ?? address)
    s.root = try w.child(rootSlot, level: depth, base: 0, path: path.appending("root"))
    s.rootLevel = depth
    s.freeze()
    guard UInt64(s.count) == count else {
      throw r.error(.inconsistent, "header says \(count) entries, the tree holds \(s.count)", at: 16)
    }
    let actualBits = w.maxIndex.map { 64 - $0.leadingZeroBitCount } ?? 0
    guard actualBits == keyBits else {
      throw r.error(
        .inconsistent, "header key width \(keyBits) bits, largest index needs \(actualBits)", at: 7)
    }
    let wantFlags =
      (w.marks != 0 ? KHOXArrayV2.flagHasMarks : 0) | (w.ranges ? KHOXArrayV2.flagHasRanges : 0)
      | (w.lists ? KHOXArrayV2.flagHasLists : 0)
      | (w.lists && w.listLayout == .paired ? KHOXArrayV2.flagPairedLists : 0)
    guard wantFlags == flags else {
      throw r.error(
        .inconsistent, "flags 0x\(String(flags, radix: 16)) but content needs 0x\(String(wantFlags, radix: 16))",
        at: 9)
    }
    guard rootSlot.marks == w.marks || rootSlot.kind == .range else {
      throw r.error(.inconsistent, "root mark summary does not match the entries", at: 45)
    }
    header = KHOXArrayV2.Header(
      pageShift: pageShift, keyBits: keyBits, depth: depth, flags: flags, count: count,
      rootKind: rootSlot.kind, rootMarks: rootSlot.marks)
  }

  public var count: Int { shadow.count }

  public func load(_ index: UInt64) -> UInt64? { shadow.value(at: index) }

  /// The marks of the entry covering `index`, or nil when absent.
  public func marks(at index: UInt64) -> XArrayMarks? {
    shadow.find(index).map { XArrayMarks(rawValue: $0.marks) }
  }

  /// The indices covered by the entry at `index`, or nil when absent.
  public func range(at index: UInt64) -> ClosedRange<UInt64>? {
    shadow.find(index).map { $0.first...$0.last }
  }

  public func firstIndex(from index: UInt64, marked mark: XArrayMark? = nil) -> UInt64? {
    shadow.firstIndex(from: index, marked: mark)
  }

  public func lastIndex(through index: UInt64, marked mark: XArrayMark? = nil) -> UInt64? {
    shadow.lastIndex(through: index, marked: mark)
  }

  public func entries(from index: UInt64 = 0, marked mark: XArrayMark? = nil) -> [XArrayEntry<UInt64>] {
    shadow.entries(from: index, marked: mark)
  }
}

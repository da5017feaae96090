// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The header of a kdump-compressed ("diskdump") vmcore, read and checked
/// before the file is handed to libkdumpfile.
///
/// makedumpfile and QEMU write it: `struct disk_dump_header` in the first
/// block (signature `KDUMP   `, version, the `utsname`, a timestamp, the
/// block size = page size, the sizes of the sub-header and the bitmaps,
/// `max_mapnr`), the `kdump_sub_header` in the next, then two page bitmaps,
/// then one 24-byte page descriptor per dumped page whose flags say how
/// that page is compressed. Integers are in the dumped machine's byte order.
public struct DiskdumpHeader: Sendable, Codable, Equatable {
  public var headerVersion: Int32
  public var release: String
  public var machine: String
  public var blockSize: Int
  public var subHeaderBlocks: Int
  public var bitmapBlocks: Int
  /// The highest page frame number + 1 the dump covers (`max_mapnr_64`
  /// from sub-header version 6 on).
  public var maxMapnr: UInt64
  public var littleEndian: Bool
  /// The compressions the first page descriptors use: zlib, lzo, snappy,
  /// zstd, or none.
  public var compression: [String]
  /// Where the bitmap of dumped pages starts (the second half of the bitmaps).
  public var dumpBitmapOffset: Int
  /// Where the page descriptors start.
  public var descriptorsOffset: Int

  /// The signature of the format, the first eight bytes of the file.
  static let signature = Array("KDUMP   ".utf8)

  static func hasSignature(_ b: Bytes) -> Bool {
    b.count >= 8 && (0..<8).allSatisfy { b.byte(at: $0) == signature[$0] }
  }

  /// Reads and checks the header of the dump in `b`.
  public init(reading b: Bytes) throws(DecodeError) {
    guard Self.hasSignature(b) else {
      throw DecodeError(.badMagic, "not a kdump-compressed dump (no KDUMP signature)", path: "/diskdump")
    }
    guard b.count >= 4096 else {
      throw DecodeError(.truncated, "\(b.count) bytes is too short for a kdump header block", path: "/diskdump")
    }
    // The block size tells the byte order: it is a page size either way.
    let le = ByteReader(b, order: .little, path: "/diskdump")
    let be = ByteReader(b, order: .big, path: "/diskdump")
    let sizeLE: Int32 = try le.integer(at: 428)
    let pageSizes: Set<Int32> = [4096, 8192, 16384, 65536]
    let r = pageSizes.contains(sizeLE) ? le : be
    littleEndian = pageSizes.contains(sizeLE)
    let block: Int32 = try r.integer(at: 428)
    guard pageSizes.contains(block) else {
      throw r.error(.unsupported, "block size \(block) is not a page size (4096, 8192, 16384, 65536)", at: 428)
    }
    blockSize = Int(block)
    headerVersion = try r.integer(at: 8)
    // makedumpfile writes 6; a version far past it is not a header.
    guard (0...64).contains(headerVersion) else {
      throw r.error(.unsupported, "header version \(headerVersion) is not one makedumpfile writes", at: 8)
    }
    func text(_ at: Int) -> String {
      let raw = (0..<65).compactMap { b.byte(at: at + $0) }.prefix { $0 != 0 }
      return String(decoding: raw, as: UTF8.self)
    }
    release = text(12 + 2 * 65)
    machine = text(12 + 4 * 65)
    let sub: Int32 = try r.integer(at: 432)
    let bitmaps: UInt32 = try r.integer(at: 436)
    guard sub >= 0, sub < 1 << 16 else {
      throw r.error(.outOfRange, "sub-header size \(sub) blocks is implausible", at: 432)
    }
    subHeaderBlocks = Int(sub)
    bitmapBlocks = Int(bitmaps)
    let dataStart = (1 + UInt64(sub) + UInt64(bitmaps)) * UInt64(block)
    guard dataStart <= UInt64(b.count) else {
      throw r.error(
        .truncated, "the header and bitmaps take \(dataStart) bytes but the file has \(b.count)", at: 436)
    }
    // libkdumpfile reads the sub-header (at the second block) by the header
    // version alone, whatever sub_hdr_size says: every field it takes from
    // there must be in the file and checked.
    let subHeader = Int(block)
    func subHeaderField(_ at: Int, _ name: String) throws(DecodeError) -> UInt64 {
      guard let v: UInt64 = try? r.integer(at: subHeader + at) else {
        throw r.error(.truncated, "the sub-header's \(name) is past the end of the file", at: subHeader + at)
      }
      return v
    }
    var mapnr = UInt64(try r.integer(at: 440, as: UInt32.self))
    if headerVersion >= 6 {
      let m = try subHeaderField(96, "max_mapnr_64")
      if m > 0 { mapnr = m }
    }
    // Two bitmaps, one bit per page each.
    guard mapnr <= UInt64(bitmaps) * UInt64(block) * 4 else {
      throw r.error(
        .inconsistent, "max_mapnr \(mapnr) needs more bitmap than \(bitmaps) blocks of \(block) bytes", at: 440)
    }
    maxMapnr = mapnr
    dumpBitmapOffset = (1 + Int(sub)) * Int(block) + Int(bitmaps) * Int(block) / 2
    descriptorsOffset = Int(dataStart)
    // Ranges the sub-header points at (VMCOREINFO, notes, erase info) must
    // be in the file: libkdumpfile reads them as they are.
    if headerVersion >= 3 {
      let names = ["VMCOREINFO", "notes", "erase info"]
      for (i, at) in [32, 48, 64].enumerated() where headerVersion >= (i == 2 ? 5 : i == 1 ? 4 : 3) {
        let off = try subHeaderField(at, "offset of \(names[i])")
        let size = try subHeaderField(at + 8, "size of \(names[i])")
        if size == 0 { continue }
        guard off <= UInt64(b.count), size <= UInt64(b.count) - off else {
          throw r.error(
            .truncated, "the sub-header puts \(names[i]) at [\(off), +\(size)) past the file's \(b.count) bytes",
            at: blockSize + at)
        }
      }
    }
    // The union of the compression flags of the first descriptors (QEMU
    // stores zero pages uncompressed, so look past a run of them).
    var flags: UInt32 = 0
    var uncompressed = false
    for i in 0..<Int(Swift.min(mapnr, 1 << 16)) where flags == 0 || i < 64 {
      let at = Int(dataStart) + 24 * i
      guard let size: UInt32 = try? r.integer(at: at + 8), let f: UInt32 = try? r.integer(at: at + 12),
        size > 0
      else { break }
      // libkdumpfile reads pages while it opens the dump and allocates the
      // size a descriptor gives; a page is never stored in more than a
      // block. (An offset past the end is a problem of that page alone,
      // found when it is read.)
      guard size <= UInt32(block) else {
        throw r.error(
          .inconsistent, "page descriptor \(i) says its page takes \(size) bytes, more than a \(block)-byte block",
          at: at + 8)
      }
      if f & 0x27 == 0 { uncompressed = true }
      flags |= f
    }
    var kinds: [String] = []
    if flags & 0x01 != 0 { kinds.append("zlib") }
    if flags & 0x02 != 0 { kinds.append("lzo") }
    if flags & 0x04 != 0 { kinds.append("snappy") }
    if flags & 0x20 != 0 { kinds.append("zstd") }
    if uncompressed { kinds.append("none") }
    compression = kinds
  }
}

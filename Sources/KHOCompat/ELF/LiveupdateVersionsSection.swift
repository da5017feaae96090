// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The `.liveupdate_versions` section of a vmlinux (RFC, kho-abi.md §9.4).
///
/// Layout (8-byte aligned, integers in the kernel's byte order):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `0x4c565550` ('LVUP') |
/// | 4 | 4 | header version, 1 |
/// | 8 + 48·i | 48 | version string i, NUL-padded |
///
/// N = (section size − 8) / 48. The strings are the LUO core's compatible
/// and every file handler's.
public enum LiveupdateVersionsSection {
  /// The section name.
  public static let sectionName = ".liveupdate_versions"
  /// `'LVUP'`.
  public static let magic: UInt32 = 0x4c56_5550
  /// The header version this reader knows.
  public static let headerVersion: UInt32 = 1
  /// Header size.
  public static let headerSize = 8
  /// Size of one string slot (`LIVEUPDATE_HNDL_COMPAT_LENGTH`).
  public static let entrySize = 48
  /// The most entries the reader accepts.
  public static let maxEntries = 4096

  /// Parses the section's bytes into its strings, in section order.
  ///
  /// - Parameters:
  ///   - bytes: the section contents.
  ///   - order: the kernel's byte order.
  ///   - address: the section's `sh_addr`, checked for 8-byte alignment when non-zero.
  ///   - fileOffset: where the section starts in its file, for error offsets.
  /// - Throws: `DecodeError`: `.truncated` (under 8 bytes), `.badMagic`,
  ///   `.unknownVersion`, `.badCount` (size − 8 not a multiple of 48),
  ///   `.limitExceeded`, `.misaligned`, `.badString` (no NUL, bytes after the
  ///   NUL not zero, empty, or not a well-formed compatible string),
  ///   `.duplicate`.
  public static func parse(
    _ bytes: Bytes, order: ByteOrder, address: UInt64 = 0, fileOffset: Int = 0
  ) throws(DecodeError) -> [String] {
    let path = DecodePath("/elf").appending(sectionName)
    func err(_ k: DecodeError.Kind, _ m: String, _ off: Int) -> DecodeError {
      DecodeError(k, m, path: path, offset: fileOffset + off)
    }
    guard address % 8 == 0 else {
      throw err(.misaligned, "section address 0x\(String(address, radix: 16)) is not 8-byte aligned", 0)
    }
    guard bytes.count >= headerSize else {
      throw err(.truncated, "the section has \(bytes.count) bytes; its header needs 8", 0)
    }
    let r = ByteReader(bytes, order: order, path: path)
    let m: UInt32 = try r.integer(at: 0)
    guard m == magic else {
      throw err(.badMagic, "magic 0x\(String(m, radix: 16)) is not 0x4c565550 ('LVUP')", 0)
    }
    let v: UInt32 = try r.integer(at: 4)
    guard v == headerVersion else {
      throw err(.unknownVersion, "header version \(v); this reader knows version 1", 4)
    }
    let body = bytes.count - headerSize
    guard body % entrySize == 0 else {
      throw err(.badCount, "\(body) bytes after the header are not a whole number of 48-byte entries", headerSize)
    }
    let n = body / entrySize
    guard n <= maxEntries else {
      throw err(.limitExceeded, "\(n) entries (at most \(maxEntries))", headerSize)
    }
    var out: [String] = []
    var seen: Set<String> = []
    for i in 0..<n {
      let off = headerSize + i * entrySize
      let field = (0..<entrySize).map { bytes.byte(at: off + $0) ?? 0 }
      guard let nul = field.firstIndex(of: 0) else {
        throw err(.badString, "entry \(i) has no NUL within 48 bytes", off)
      }
      if let junk = field[nul...].firstIndex(where: { $0 != 0 }) {
        throw err(.badString, "entry \(i) has a non-zero byte after its NUL (padding must be zero)", off + junk)
      }
      guard nul > 0 else { throw err(.badString, "entry \(i) is empty", off) }
      let s = String(decoding: field[..<nul], as: UTF8.self)
      do { _ = try CompatibleString(parsing: s, maxLength: CompatibleString.fieldMaxLength) } catch {
        throw err(.badString, "entry \(i): \(error.message)", off + (error.index ?? 0))
      }
      guard seen.insert(s).inserted else {
        throw err(.duplicate, "entry \(i) repeats '\(s)'", off)
      }
      out.append(s)
    }
    return out
  }

  /// The section bytes for `strings` (header then 48-byte NUL-padded slots).
  public static func encode(_ strings: [String], order: ByteOrder) throws(EncodeError) -> [UInt8] {
    guard strings.count <= maxEntries else {
      throw EncodeError(.outOfRange, "\(strings.count) entries (at most \(maxEntries))")
    }
    func u32(_ x: UInt32) -> [UInt8] {
      let le = [UInt8(x & 0xff), UInt8((x >> 8) & 0xff), UInt8((x >> 16) & 0xff), UInt8(x >> 24)]
      return order == .little ? le : le.reversed()
    }
    var out = u32(magic) + u32(headerVersion)
    var seen: Set<String> = []
    for (i, s) in strings.enumerated() {
      do { _ = try CompatibleString(parsing: s, maxLength: CompatibleString.fieldMaxLength) } catch {
        throw EncodeError(.badString, "entry \(i): \(error.message)")
      }
      guard seen.insert(s).inserted else { throw EncodeError(.duplicate, "entry \(i) repeats '\(s)'") }
      let u = Array(s.utf8)
      out += u + [UInt8](repeating: 0, count: entrySize - u.count)
    }
    return out
  }

  /// Finds the section in a vmlinux and parses it.
  ///
  /// - Throws: the ELF reader's errors; `.missing` when the file has no
  ///   `.liveupdate_versions` section; `.duplicate` when it has two.
  public static func read(vmlinux bytes: Bytes) throws(DecodeError) -> [String] {
    let elf = try ELFSectionTable(bytes: bytes)
    let found = elf.sections(named: sectionName)
    guard let s = found.first else {
      throw DecodeError(
        .missing, "no \(sectionName) section (the kernel predates the RFC or was built without it)",
        path: "/elf/sections")
    }
    guard found.count == 1 else {
      throw DecodeError(.duplicate, "\(found.count) sections named \(sectionName)", path: "/elf/sections")
    }
    let data = try elf.contents(of: s)
    return try parse(data, order: elf.order, address: s.address, fileOffset: Int(clamping: s.offset))
  }
}

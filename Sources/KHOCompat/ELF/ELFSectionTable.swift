// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The section header table of an ELF64 file (a vmlinux), read lazily and checked.
///
/// Unlike the core files `KHOImage` reads (program headers only), a vmlinux
/// is `ET_EXEC` or `ET_DYN` with section headers and a section-name string
/// table. This reader checks every field it uses and reports problems as
/// `DecodeError`s with the byte offset in the file:
///
/// | field | check | error kind |
/// |---|---|---|
/// | `e_ident` magic / class / data / version | `\x7fELF`, ELFCLASS64, LSB or MSB, 1 | badMagic / unsupported / unknownVersion |
/// | `e_type` | ET_EXEC, ET_DYN or ET_REL (ET_CORE is a memory image) | unsupported |
/// | `e_shoff`, `e_shentsize`, `e_shnum` | table present, entries of 64 bytes, inside the file | missing / inconsistent / truncated |
/// | `e_shnum == 0`, `e_shstrndx == SHN_XINDEX` | extended numbering through section 0 | as above |
/// | `e_shstrndx` | a section of the table, not SHN_UNDEF | missing / outOfRange |
/// | `sh_name` | inside the name table, NUL-terminated | outOfRange / badString |
/// | `sh_offset + sh_size` | inside the file (not for SHT_NOBITS) | truncated |
public struct ELFSectionTable: Sendable {
  /// One section header.
  public struct Section: Hashable, Sendable {
    public var index: Int
    public var name: String
    public var type: UInt32
    public var flags: UInt64
    public var address: UInt64
    public var offset: UInt64
    public var size: UInt64
    public var addressAlignment: UInt64
  }

  /// ELF file types.
  public enum FileType: UInt16, Sendable {
    case relocatable = 1, executable = 2, sharedObject = 3, core = 4
  }

  static let headerSize = 64
  static let sectionHeaderSize = 64
  static let shtNoBits: UInt32 = 8
  /// The most sections the reader walks.
  public static let maxSections = 1 << 20

  /// The file.
  public let bytes: Bytes
  /// Byte order from `EI_DATA`.
  public let order: ByteOrder
  /// `e_type`.
  public let fileType: FileType
  /// `e_machine`.
  public let machine: UInt16
  /// Every section, in table order.
  public let sections: [Section]

  /// Reads the ELF header and the section header table of `bytes`.
  public init(bytes: Bytes) throws(DecodeError) {
    self.bytes = bytes
    let hdrPath: DecodePath = "/elf/header"
    guard bytes.count >= Self.headerSize else {
      throw DecodeError(
        .truncated, "an ELF64 header needs 64 bytes, the file has \(bytes.count)", path: hdrPath, offset: 0)
    }
    let ident = (0..<16).map { bytes.byte(at: $0) ?? 0 }
    guard ident[0..<4] == [0x7f, 0x45, 0x4c, 0x46] else {
      throw DecodeError(.badMagic, "not an ELF file (no \\x7fELF magic)", path: hdrPath, offset: 0)
    }
    guard ident[4] == 2 else {
      throw DecodeError(.unsupported, "EI_CLASS \(ident[4]) is not ELFCLASS64", path: hdrPath, offset: 4)
    }
    switch ident[5] {
    case 1: order = .little
    case 2: order = .big
    default:
      throw DecodeError(.badMagic, "EI_DATA \(ident[5]) is neither LSB (1) nor MSB (2)", path: hdrPath, offset: 5)
    }
    guard ident[6] == 1 else {
      throw DecodeError(.unknownVersion, "EI_VERSION \(ident[6]) is not 1", path: hdrPath, offset: 6)
    }
    let r = ByteReader(bytes, order: order, path: hdrPath)
    let rawType: UInt16 = try r.integer(at: 16)
    guard let type = FileType(rawValue: rawType) else {
      throw DecodeError(.unsupported, "e_type \(rawType) is not ET_REL, ET_EXEC or ET_DYN", path: hdrPath, offset: 16)
    }
    guard type != .core else {
      throw DecodeError(
        .unsupported, "an ELF core (ET_CORE) is a memory image, not a vmlinux; it has no version section",
        path: hdrPath, offset: 16)
    }
    fileType = type
    machine = try r.integer(at: 18)
    let shoff: UInt64 = try r.integer(at: 40)
    let shentsize: UInt16 = try r.integer(at: 58)
    var shnum = UInt64(try r.integer(at: 60, as: UInt16.self))
    var shstrndx = UInt64(try r.integer(at: 62, as: UInt16.self))
    guard shoff != 0 else {
      throw DecodeError(.missing, "e_shoff is 0: the file has no section header table", path: hdrPath, offset: 40)
    }
    guard shentsize == UInt16(Self.sectionHeaderSize) else {
      throw DecodeError(.inconsistent, "e_shentsize \(shentsize) is not 64", path: hdrPath, offset: 58)
    }
    let tablePath: DecodePath = "/elf/sections"
    let first = try Self.header(bytes, order: order, shoff: shoff, index: 0, path: tablePath)
    if shnum == 0 {  // Extended numbering: the count is in section 0's sh_size.
      shnum = first.size
    }
    if shstrndx == 0xffff { shstrndx = UInt64(first.link) }
    guard shnum > 0 else {
      throw DecodeError(.missing, "the section header table is empty", path: hdrPath, offset: 60)
    }
    guard shnum <= UInt64(Self.maxSections) else {
      throw DecodeError(.limitExceeded, "\(shnum) sections (at most \(Self.maxSections))", path: hdrPath, offset: 60)
    }
    let (tableBytes, o1) = shnum.multipliedReportingOverflow(by: UInt64(Self.sectionHeaderSize))
    let (tableEnd, o2) = shoff.addingReportingOverflow(tableBytes)
    guard !o1, !o2, tableEnd <= UInt64(bytes.count) else {
      throw DecodeError(
        .truncated,
        "section header table (\(shnum) × 64 bytes at 0x\(String(shoff, radix: 16))) runs past the end of the file (\(bytes.count) bytes)",
        path: tablePath, offset: Int(clamping: shoff))
    }
    guard shstrndx != 0 else {
      throw DecodeError(.missing, "e_shstrndx is SHN_UNDEF: sections have no names", path: hdrPath, offset: 62)
    }
    guard shstrndx < shnum else {
      throw DecodeError(
        .outOfRange, "e_shstrndx \(shstrndx) is not below the section count \(shnum)", path: hdrPath, offset: 62)
    }
    let n = Int(shnum)
    var raws: [RawHeader] = []
    raws.reserveCapacity(n)
    for i in 0..<n { raws.append(try Self.header(bytes, order: order, shoff: shoff, index: i, path: tablePath)) }
    let strtab = raws[Int(shstrndx)]
    let namesPath = tablePath.index(Int(shstrndx))
    let names = try Self.contents(bytes, strtab, path: namesPath)
    var sections: [Section] = []
    sections.reserveCapacity(n)
    for (i, h) in raws.enumerated() {
      let name = try Self.name(names, at: h.name, path: tablePath.index(i), tableOffset: strtab.offset)
      sections.append(
        Section(
          index: i, name: name, type: h.type, flags: h.flags, address: h.address, offset: h.offset,
          size: h.size, addressAlignment: h.align))
    }
    self.sections = sections
  }

  /// The sections called `name`.
  public func sections(named name: String) -> [Section] { sections.filter { $0.name == name } }

  /// The file bytes of `section`.
  public func contents(of section: Section) throws(DecodeError) -> Bytes {
    let raw = RawHeader(
      name: 0, type: section.type, flags: section.flags, address: section.address, offset: section.offset,
      size: section.size, link: 0, align: section.addressAlignment)
    return try Self.contents(bytes, raw, path: DecodePath("/elf").appending(section.name))
  }

  struct RawHeader {
    var name: UInt32
    var type: UInt32
    var flags: UInt64
    var address: UInt64
    var offset: UInt64
    var size: UInt64
    var link: UInt32
    var align: UInt64
  }

  static func header(_ bytes: Bytes, order: ByteOrder, shoff: UInt64, index: Int, path: DecodePath)
    throws(DecodeError) -> RawHeader
  {
    let at = path.index(index)
    let (rel, o1) = UInt64(index).multipliedReportingOverflow(by: UInt64(sectionHeaderSize))
    let (start, o2) = shoff.addingReportingOverflow(rel)
    guard !o1, !o2, start <= UInt64(bytes.count), UInt64(bytes.count) - start >= UInt64(sectionHeaderSize),
      let b = bytes.extracting(Int(start), count: sectionHeaderSize)
    else {
      throw DecodeError(
        .truncated, "section header \(index) is outside the file", path: at, offset: Int(clamping: start))
    }
    let r = ByteReader(b, order: order, path: at)
    return RawHeader(
      name: try r.integer(at: 0), type: try r.integer(at: 4), flags: try r.integer(at: 8),
      address: try r.integer(at: 16), offset: try r.integer(at: 24), size: try r.integer(at: 32),
      link: try r.integer(at: 40), align: try r.integer(at: 48))
  }

  static func contents(_ bytes: Bytes, _ h: RawHeader, path: DecodePath) throws(DecodeError) -> Bytes {
    guard h.type != shtNoBits else {
      throw DecodeError(.inconsistent, "section is SHT_NOBITS: it has no bytes in the file", path: path)
    }
    let (end, o) = h.offset.addingReportingOverflow(h.size)
    guard !o, end <= UInt64(bytes.count), let b = bytes.extracting(Int(h.offset), count: Int(h.size)) else {
      throw DecodeError(
        .truncated,
        "section data (\(h.size) bytes at 0x\(String(h.offset, radix: 16))) runs past the end of the file (\(bytes.count) bytes)",
        path: path, offset: Int(clamping: h.offset))
    }
    return b
  }

  static func name(_ table: Bytes, at index: UInt32, path: DecodePath, tableOffset: UInt64) throws(DecodeError)
    -> String
  {
    let i = Int(index)
    guard i < table.count else {
      throw DecodeError(.outOfRange, "sh_name \(index) is outside the name table (\(table.count) bytes)", path: path)
    }
    var r = ByteReader(table, order: .little, path: path)
    try r.seek(to: i)
    do { return try r.cString(limit: table.count - i) } catch {
      throw DecodeError(
        .badString, "section name at \(index) is not a NUL-terminated UTF-8 string", path: path,
        offset: Int(clamping: tableOffset &+ UInt64(index)))
    }
  }
}

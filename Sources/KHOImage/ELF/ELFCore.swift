// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Physical memory read from an ELF64 core file, lazily and without copying.
///
/// This is the shape of QEMU `dump-guest-memory`, a kdump vmcore, the
/// kernel-image fixtures and the toolkit's own bundles: `ET_CORE`, one
/// `PT_LOAD` per captured range addressed by `p_paddr`, and `PT_NOTE`s.
/// Either byte order is accepted. The file is memory-mapped, so a core of
/// tens of GiB opens at once; segment lookup is a binary search.
///
/// Only `p_filesz` bytes of a segment count as captured (bytes between
/// `p_filesz` and `p_memsz` were not dumped). Segments must not overlap.
public final class ELFCore: PhysicalMemory {
  /// The ELF machine (`e_machine`): 62 = x86_64, 183 = aarch64.
  public let machine: UInt16
  /// The notes of every `PT_NOTE` segment, in file order.
  public let notes: [ELFNote]
  /// The page size and byte order: from the VMCOREINFO or toolkit note's
  /// `PAGESIZE`, else 4 KiB; byte order from `EI_DATA`.
  public let geometry: PageGeometry
  public let segments: [PhysRange]

  /// The whole file when mapped; otherwise reads go through `preadFile`.
  private let file: Bytes
  private let preadFile: _PreadFile?
  /// The mapped file behind `file`, when known: scans read it with `pread`
  /// and skip its holes.
  private let backing: _MappedFile?
  /// File offset of each segment in `segments`.
  private let fileOffsets: [UInt64]

  /// Reads of this many bytes or more are copied with `pread` rather than
  /// handed out from the mapping.
  public static let copyThreshold = 1 << 20

  /// Whether `bytes` starts with the ELF magic.
  public static func hasMagic(_ bytes: Bytes) -> Bool {
    bytes.count >= 4 && (0..<4).allSatisfy { bytes.byte(at: $0) == [0x7f, 0x45, 0x4c, 0x46][$0] }
  }

  /// The most program headers accepted (a 4 TiB sparse core has far fewer).
  public static let maxProgramHeaders = 1 << 20

  /// Opens and maps the core at `path` (zstd-compressed cores are expanded).
  public convenience init(path: String, geometry override: PageGeometry? = nil) throws(DecodeError) {
    try self.init(mapped: try InputFile.map(path, image: true), geometry: override)
  }

  /// Reads the ELF64 core in a mapped file, keeping the file for scans.
  convenience init(mapped: _MappedFile, geometry override: PageGeometry?) throws(DecodeError) {
    try self.init(bytes: mapped.bytes, geometry: override, preadFile: nil, backing: mapped)
  }

  /// Opens a core that cannot be memory-mapped (`/proc/kcore`): headers and
  /// notes are read once, segment data with `pread` on demand.
  public convenience init(unmappablePath path: String, geometry override: PageGeometry? = nil)
    throws(DecodeError)
  {
    let f = try _PreadFile(path: path)
    let ehdr = try f.read(offset: 0, count: 64)
    let order: ByteOrder = ehdr.byte(at: 5) == 2 ? .big : .little
    let h = ByteReader(ehdr, order: order, path: "/elf")
    let phoff: UInt64 = (try? h.integer(at: 32)) ?? 0
    let phnum = Int((try? h.integer(at: 56, as: UInt16.self)) ?? 0)
    let phentsize = Int((try? h.integer(at: 54, as: UInt16.self)) ?? 56)
    guard phnum < Self.maxProgramHeaders, phoff < 1 << 32 else {
      throw DecodeError(.outOfRange, "implausible program header table in \(path)")
    }
    let headerBytes = Int(phoff) + phnum * phentsize
    // Notes are small and near the start; read them along with the headers.
    var prefix = try f.read(offset: 0, count: headerBytes)
    if let notes = try? Self.noteExtent(prefix, order: order, phoff: Int(phoff), phnum: phnum, phentsize: phentsize),
      notes > headerBytes, notes < 1 << 24
    {
      prefix = try f.read(offset: 0, count: notes)
    }
    try self.init(bytes: prefix, geometry: override, preadFile: f, backing: nil)
  }

  /// The end offset of the last PT_NOTE segment.
  private static func noteExtent(_ b: Bytes, order: ByteOrder, phoff: Int, phnum: Int, phentsize: Int)
    throws(DecodeError) -> Int
  {
    let r = ByteReader(b, order: order)
    var end = 0
    for i in 0..<phnum {
      let at = phoff + i * phentsize
      let t: UInt32 = try r.integer(at: at)
      if t == 4 {
        let off: UInt64 = try r.integer(at: at + 8)
        let size: UInt64 = try r.integer(at: at + 32)
        end = Swift.max(end, Int(clamping: off &+ size))
      }
    }
    return end
  }

  /// Reads an ELF64 core held in `bytes`.
  public convenience init(bytes: Bytes, geometry override: PageGeometry? = nil) throws(DecodeError) {
    try self.init(bytes: bytes, geometry: override, preadFile: nil, backing: nil)
  }

  private init(bytes: Bytes, geometry override: PageGeometry?, preadFile: _PreadFile?, backing: _MappedFile?)
    throws(DecodeError)
  {
    file = bytes
    self.preadFile = preadFile
    self.backing = backing
    var id = ByteReader(bytes, order: .little, path: "/elf")
    guard bytes.count >= 64 else {
      throw id.error(.truncated, "\(bytes.count) bytes is too short for an ELF64 header", at: 0)
    }
    let ident = try id.bytes(count: 16).array
    guard ident[0] == 0x7f, ident[1] == 0x45, ident[2] == 0x4c, ident[3] == 0x46 else {
      throw id.error(.badMagic, "not an ELF file", at: 0)
    }
    guard ident[4] == 2 else { throw id.error(.unsupported, "not a 64-bit ELF (class \(ident[4]))", at: 4) }
    let order: ByteOrder
    switch ident[5] {
    case 1: order = .little
    case 2: order = .big
    default: throw id.error(.outOfRange, "unknown ELF data encoding \(ident[5])", at: 5)
    }
    let h = ByteReader(bytes, order: order, path: "/elf")
    let type: UInt16 = try h.integer(at: 16)
    guard type == 4 else {
      throw h.error(.unsupported, "ELF type \(type) is not ET_CORE (4)", at: 16)
    }
    machine = try h.integer(at: 18)
    let phoff: UInt64 = try h.integer(at: 32)
    let phentsize = Int(try h.integer(at: 54, as: UInt16.self))
    var phnum = Int(try h.integer(at: 56, as: UInt16.self))
    if phnum == 0xffff {
      // PN_XNUM: the real count is in sh_info of section header 0.
      let shoff: UInt64 = try h.integer(at: 40)
      guard shoff < UInt64(bytes.count), let info: UInt32 = try? h.integer(at: Int(shoff) + 44) else {
        throw h.error(.truncated, "PN_XNUM set but section header 0 is missing", at: 40)
      }
      phnum = Int(info)
    }
    guard phentsize >= 56 else {
      throw h.error(.outOfRange, "program header size \(phentsize) is below 56", at: 54)
    }
    guard phnum <= Self.maxProgramHeaders else {
      throw h.error(.limitExceeded, "\(phnum) program headers exceed \(Self.maxProgramHeaders)", at: 56)
    }
    guard phoff <= UInt64(bytes.count),
      UInt64(phnum) * UInt64(phentsize) <= UInt64(bytes.count) - phoff
    else {
      throw h.error(.truncated, "program headers run past the end of the file", at: 32)
    }
    var loads: [(range: PhysRange, offset: UInt64)] = []
    var notes: [ELFNote] = []
    for i in 0..<phnum {
      let at = Int(phoff) + i * phentsize
      let p = ByteReader(bytes, order: order, path: DecodePath("/elf/phdr").index(i))
      let pType: UInt32 = try p.integer(at: at)
      let offset: UInt64 = try p.integer(at: at + 8)
      let paddr: UInt64 = try p.integer(at: at + 24)
      let filesz: UInt64 = try p.integer(at: at + 32)
      guard preadFile != nil || (offset <= UInt64(bytes.count) && filesz <= UInt64(bytes.count) - offset)
      else {
        throw p.error(.truncated, "segment data [\(offset), +\(filesz)) runs past the file", at: at + 8)
      }
      switch pType {
      case 1 where filesz > 0:
        guard paddr <= UInt64.max - filesz else {
          throw p.error(.outOfRange, "segment at 0x\(String(paddr, radix: 16)) wraps past 2^64", at: at + 24)
        }
        loads.append((PhysRange(start: PhysAddr(paddr), size: filesz), offset))
      case 4:
        guard let data = bytes.extracting(Int(offset), count: Int(filesz)) else { continue }
        notes += try ELFNote.parse(data, order: order, path: p.path)
      default:
        continue
      }
    }
    loads.sort { $0.range.start < $1.range.start }
    for i in loads.indices.dropFirst() where loads[i].range.overlaps(loads[i - 1].range) {
      throw DecodeError(
        .inconsistent, "PT_LOAD segments \(loads[i - 1].range) and \(loads[i].range) overlap",
        path: "/elf", address: loads[i].range.start)
    }
    segments = loads.map(\.range)
    fileOffsets = loads.map(\.offset)
    self.notes = notes
    let declared = notes.lazy.compactMap { $0.keyValues["PAGESIZE"] }.first
    var pageSize: Int?
    if let declared, override == nil {
      guard let n = Int(declared), PageGeometry(pageSize: n, byteOrder: order) != nil else {
        let shown = declared.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? String($0) : "?" }
          .joined()
        throw DecodeError(
          .unsupported,
          "VMCOREINFO PAGESIZE '\(shown.prefix(40))' is not a page size this toolkit reads (4096, 16384, 65536); pass --page-size to override",
          path: "/elf/VMCOREINFO")
      }
      pageSize = n
    }
    // An override sets the page size; the byte order is always the file's.
    geometry =
      (override?.pageSize ?? pageSize).flatMap { PageGeometry(pageSize: $0, byteOrder: order) }
      ?? PageGeometry(pageShift: 12, byteOrder: order) ?? .x86_64
  }

  /// The key=value lines of the VMCOREINFO note, if any.
  public var vmcoreinfo: [String: String] {
    notes.first { $0.name == "VMCOREINFO" }?.keyValues ?? [:]
  }

  public func bytes(at address: PhysAddr, count: Int) throws(DecodeError) -> Bytes {
    guard count >= 0 else {
      throw DecodeError(.outOfRange, "negative read length \(count)", address: address)
    }
    guard let i = SegmentIndex.find(segments, address) else {
      throw DecodeError(.notCaptured, "address \(address) is not in captured memory", address: address)
    }
    let seg = segments[i]
    let delta = address.rawValue - seg.start.rawValue
    if UInt64(count) <= seg.size - delta {
      let off = fileOffsets[i] + delta
      if let preadFile { return try preadFile.read(offset: off, count: count) }
      // Large reads are copied, so they leave nothing mapped behind them.
      if let backing, count >= Self.copyThreshold { return try backing.copy(offset: off, count: count) }
      if let b = file.extracting(Int(off), count: count) { return b }
    }
    // Spans adjacent segments: copy piece by piece.
    guard let end = address.advanced(by: UInt64(count)),
      isCaptured(PhysRange(start: address, size: UInt64(count)))
    else { throw SegmentIndex.missError(segments, address, count) }
    var out: [UInt8] = []
    out.reserveCapacity(count)
    var a = address.rawValue
    var j = i
    while a < end.rawValue, j < segments.count {
      let s = segments[j]
      let d = a - s.start.rawValue
      let n = Swift.min(s.size - d, end.rawValue - a)
      let piece: Bytes
      if let preadFile {
        piece = try preadFile.read(offset: fileOffsets[j] + d, count: Int(n))
      } else if let p = file.extracting(Int(fileOffsets[j] + d), count: Int(n)) {
        piece = p
      } else {
        throw SegmentIndex.missError(segments, address, count)
      }
      piece.withUnsafeBytes { out.appendBytes($0) }
      a += n
      j += 1
    }
    return Bytes(out)
  }
}

extension ELFCore {
  public var dataSegments: [PhysRange] {
    guard let backing else { return segments }
    var out: [PhysRange] = []
    for (seg, off) in zip(segments, fileOffsets) {
      for e in backing.dataExtents(off, off &+ seg.size) {
        out.append(PhysRange(start: PhysAddr(seg.start.rawValue &+ (e.lowerBound - off)), size: UInt64(e.count)))
      }
    }
    return out
  }

  public func scanData(chunk: Int, _ body: (PhysAddr, RawSpan) -> Bool) throws(DecodeError) {
    guard let backing else { return try scanDataByReading(chunk: chunk, body) }
    for (seg, off) in zip(segments, fileOffsets) {
      let more = try backing.streamData(off, off &+ seg.size, chunk: chunk) { at, span in
        body(PhysAddr(seg.start.rawValue &+ (at - off)), span)
      }
      guard more else { return }
    }
  }
}

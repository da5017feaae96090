// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Writes physical memory as an ELF64 core file.
///
/// The layout is the one ``ELFCore`` reads and `readelf -l` lists: the ELF
/// header, program headers (one `PT_NOTE` first when there are notes, then
/// one `PT_LOAD` per contiguous captured range with `p_paddr == p_vaddr ==`
/// the physical address), then the note data, then page-aligned segment
/// data.
public struct ELFCoreWriter {
  /// `e_machine` to write (62 = x86_64).
  public var machine: UInt16
  /// Notes to include in the `PT_NOTE` segment.
  public var notes: [ELFNote]

  public init(machine: UInt16 = 62, notes: [ELFNote] = []) {
    self.machine = machine
    self.notes = notes
  }

  /// The core file bytes for `ranges` of `memory` (all captured ranges by default).
  public func write(_ memory: any PhysicalMemory, ranges: [PhysRange]? = nil) throws(DecodeError) -> [UInt8] {
    var data: [UInt8] = []
    try write(memory, ranges: ranges) { (piece: UnsafeRawBufferPointer) throws(DecodeError) in
      data.appendBytes(piece)
    }
    return data
  }

  /// Streams the core file for `ranges` of `memory` to `sink`, segment data
  /// in pieces of at most ``chunk`` bytes: memory stays one piece however
  /// large the core (pack `--with-data` of a host's preserved pages).
  public func write(
    _ memory: any PhysicalMemory, ranges: [PhysRange]? = nil,
    to sink: (UnsafeRawBufferPointer) throws(DecodeError) -> Void
  ) throws(DecodeError) {
    func emit(_ a: [UInt8]) throws(DecodeError) {
      let failure = a.withUnsafeBytes { p -> DecodeError? in
        do throws(DecodeError) { try sink(p) } catch { return error }
        return nil
      }
      if let failure { throw failure }
    }
    let order = memory.geometry.byteOrder
    let ranges = ranges ?? memory.segments
    var out = Writer(order: order)
    let noteData = encodedNotes(order)
    let phnum = ranges.count + (noteData.isEmpty ? 0 : 1)
    guard phnum <= ELFCore.maxProgramHeaders else {
      throw DecodeError(
        .limitExceeded, "\(phnum) program headers exceed the \(ELFCore.maxProgramHeaders) a core may have here")
    }
    // 0xffff and more: e_phnum is PN_XNUM and the count is in sh_info of
    // one section header after the program headers, as Linux writes cores.
    let extended = phnum >= 0xffff
    let sectionOffset = UInt64(64 + 56 * phnum)
    let align = UInt64(memory.geometry.pageSize)
    let headersEnd = sectionOffset + (extended ? 64 : 0)
    let noteOffset = headersEnd
    var dataOffset = (noteOffset + UInt64(noteData.count) + align - 1) / align * align
    // ELF header.
    out.bytes([0x7f, 0x45, 0x4c, 0x46, 2, order == .little ? 1 : 2, 1, 0])
    out.bytes([UInt8](repeating: 0, count: 8))
    out.u16(4)  // ET_CORE
    out.u16(machine)
    out.u32(1)
    out.u64(0)  // e_entry
    out.u64(64)  // e_phoff
    out.u64(extended ? sectionOffset : 0)  // e_shoff
    out.u32(0)  // e_flags
    out.u16(64)
    out.u16(56)
    out.u16(extended ? 0xffff : UInt16(phnum))  // e_phnum, PN_XNUM when extended
    out.u16(64)  // e_shentsize
    out.u16(extended ? 1 : 0)  // e_shnum
    out.u16(0)
    if !noteData.isEmpty {
      phdr(&out, type: 4, flags: 4, offset: noteOffset, paddr: 0, size: UInt64(noteData.count), align: 4)
    }
    var offsets: [UInt64] = []
    for r in ranges {
      offsets.append(dataOffset)
      phdr(&out, type: 1, flags: 6, offset: dataOffset, paddr: r.start.rawValue, size: r.size, align: align)
      dataOffset += (r.size + align - 1) / align * align
    }
    if extended {
      // Section header 0 (SHT_NULL): only sh_info, the program header count.
      out.bytes([UInt8](repeating: 0, count: 44))
      out.u32(UInt32(phnum))
      out.bytes([UInt8](repeating: 0, count: 16))
    }
    out.bytes(noteData)
    var written = 0
    for (r, off) in zip(ranges, offsets) {
      out.pad(to: Int(off) - written)
      try emit(out.data)
      written += out.data.count
      out.data.removeAll(keepingCapacity: true)
      var done: UInt64 = 0
      while done < r.size {
        let n = Int(Swift.min(UInt64(Self.chunk), r.size - done))
        let b = try memory.bytes(at: PhysAddr(r.start.rawValue + done), count: n)
        try b.withUnsafeBytes { (p: UnsafeRawBufferPointer) throws(DecodeError) in try sink(p) }
        done += UInt64(n)
        written += n
      }
    }
    if !out.data.isEmpty { try emit(out.data) }
  }

  /// The most segment bytes read and handed to a sink at once.
  public static let chunk = 8 << 20

  private func phdr(
    _ out: inout Writer, type: UInt32, flags: UInt32, offset: UInt64, paddr: UInt64, size: UInt64,
    align: UInt64
  ) {
    out.u32(type)
    out.u32(flags)
    out.u64(offset)
    out.u64(paddr)  // p_vaddr
    out.u64(paddr)  // p_paddr
    out.u64(size)
    out.u64(size)
    out.u64(align)
  }

  private func encodedNotes(_ order: ByteOrder) -> [UInt8] {
    var w = Writer(order: order)
    for n in notes {
      let name = Array(n.name.utf8) + [0]
      w.u32(UInt32(name.count))
      w.u32(UInt32(n.descriptor.count))
      w.u32(n.type)
      w.bytes(name)
      w.pad(to: (w.data.count + 3) & ~3)
      w.bytes(n.descriptor)
      w.pad(to: (w.data.count + 3) & ~3)
    }
    return w.data
  }

  struct Writer {
    let order: ByteOrder
    var data: [UInt8] = []
    mutating func bytes(_ b: [UInt8]) { data += b }
    mutating func pad(to n: Int) {
      if n > data.count { data += [UInt8](repeating: 0, count: n - data.count) }
    }
    mutating func int<T: FixedWidthInteger>(_ v: T) {
      let x = order == .little ? v.littleEndian : v.bigEndian
      withUnsafeBytes(of: x) { data += $0 }
    }
    mutating func u16(_ v: UInt16) { int(v) }
    mutating func u32(_ v: UInt32) { int(v) }
    mutating func u64(_ v: UInt64) { int(v) }
  }
}

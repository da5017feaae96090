// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A walk of an IOMMU domain's page table in the x86-64 / VT-d
/// second-level format: 512 eight-byte entries per 4 KiB table; an entry is
/// present when bit 0 or 1 is set (x86 P, VT-d R/W); bits 12–51 address
/// the next table or the page; bit 7 (PS) at levels 1 and 2 maps a 2 MiB or
/// 1 GiB page. Level 0 is the leaf table.
public struct IOMMUPageTable: Hashable, Sendable {
  /// The most table pages one walk reads.
  public static let maxTables = 1 << 16
  static let addressMask: UInt64 = 0x000f_ffff_ffff_f000

  /// One run of IOVA space mapped to contiguous physical memory.
  public struct Mapping: Hashable, Sendable {
    public var iova: UInt64
    public var phys: PhysAddr
    public var size: UInt64
  }

  /// Every table page, top first.
  public var tables: [PhysAddr] = []
  /// Mapped runs, coalesced (at most ``maxMappings`` kept).
  public var mappings: [Mapping] = []
  /// Runs beyond the cap, counted only.
  public var omittedMappings = 0
  /// Bytes of IOVA space mapped.
  public var mappedBytes: UInt64 = 0
  /// The most runs kept.
  public static let maxMappings = 1 << 16

  /// Walks the table at `top` with `levels` levels (1…5).
  static func walk(
    _ memory: any PhysicalMemory, top: PhysAddr, levels: Int, path: DecodePath, problems: inout DecodeProblems
  ) throws(DecodeError) -> IOMMUPageTable {
    var t = IOMMUPageTable()
    var seen = Set<UInt64>()
    let order = memory.geometry.byteOrder
    func add(_ iova: UInt64, _ phys: UInt64, _ size: UInt64) {
      t.mappedBytes &+= size
      if var last = t.mappings.last, last.iova &+ last.size == iova, last.phys.rawValue &+ last.size == phys {
        last.size += size
        t.mappings[t.mappings.count - 1] = last
      } else if t.mappings.count < maxMappings {
        t.mappings.append(Mapping(iova: iova, phys: PhysAddr(phys), size: size))
      } else {
        t.omittedMappings += 1
      }
    }
    // Depth-first, in IOVA order: (table, level, iova base).
    var stack: [(PhysAddr, Int, UInt64)] = [(top, levels - 1, 0)]
    while let (table, level, base) = stack.popLast() {
      guard seen.insert(table.rawValue).inserted else {
        try problems.report(DecodeError(.cycle, "page table \(table) is reached twice", path: path, address: table))
        continue
      }
      guard t.tables.count < maxTables else {
        try problems.report(
          DecodeError(.limitExceeded, "more than \(maxTables) table pages; the walk stops", path: path, address: table))
        break
      }
      guard table.rawValue & 0xfff == 0 else {
        try problems.report(
          DecodeError(.misaligned, "page table \(table) is not 4 KiB aligned", path: path, address: table))
        continue
      }
      t.tables.append(table)
      let page: Bytes
      do {
        page = try memory.bytes(at: table, count: 4096, path: path)
      } catch {
        try problems.report(error)
        continue
      }
      let r = ByteReader(page, order: order, path: path, base: table)
      let span = UInt64(1) << UInt64(12 + 9 * level)
      var children: [(PhysAddr, Int, UInt64)] = []
      for i in 0..<512 {
        let pte: UInt64 = try r.integer(at: 8 * i)
        guard pte & 0x3 != 0 else { continue }
        let iova = base &+ UInt64(i) &* span
        let next = pte & addressMask
        if level == 0 || (pte & 0x80 != 0 && level <= 2) {
          if next & (span - 1) != 0 {
            try problems.report(
              DecodeError(
                .misaligned,
                "a level-\(level) leaf maps 0x\(String(next, radix: 16)), not aligned to its \(span)-byte size",
                path: path, address: table.advanced(by: UInt64(8 * i))))
            continue
          }
          add(iova, next, span)
        } else if pte & 0x80 != 0 {
          try problems.report(
            DecodeError(
              .outOfRange, "a large-page bit at level \(level) (only 2 MiB and 1 GiB pages exist)", path: path,
              address: table.advanced(by: UInt64(8 * i))))
        } else {
          children.append((PhysAddr(next), level - 1, iova))
        }
      }
      stack += children.reversed()
    }
    return t
  }

  /// Writes 4 KiB mappings `(iova, phys)` as a `levels`-level table; returns the top.
  public static func build(
    _ pages: [(iova: UInt64, phys: PhysAddr)], levels: Int, into w: inout PayloadWriter
  ) throws(EncodeError) -> PhysAddr {
    let image = w.image
    func newTable(_ w: inout PayloadWriter) throws(EncodeError) -> PhysAddr { try w.allocatePreserved() }
    let top = try newTable(&w)
    var tables: [String: PhysAddr] = [:]
    for (iova, phys) in pages {
      var table = top
      for level in stride(from: levels - 1, to: 0, by: -1) {
        let idx = Int((iova >> UInt64(12 + 9 * level)) & 511)
        let key = "\(level)/\(iova >> UInt64(12 + 9 * level))"
        if let t = tables[key] {
          table = t
          continue
        }
        let child = try newTable(&w)
        image.store(child.rawValue | 0x3, at: PhysAddr(table.rawValue + UInt64(8 * idx)))
        tables[key] = child
        table = child
      }
      let idx = Int((iova >> 12) & 511)
      image.store(phys.rawValue | 0x3, at: PhysAddr(table.rawValue + UInt64(8 * idx)))
    }
    return top
  }
}

import KHOCore
import KHOFormats

/// Finds KHO root FDTs in captured memory, like `fdtdump -s` for KHO.
public enum RootScanner {
  /// A page that begins with a valid FDT whose root `compatible` starts with `kho-`.
  public struct Candidate: Hashable, Sendable, Codable {
    public var address: PhysAddr
    public var compatible: String
    public var totalSize: Int
  }

  /// The largest FDT size considered (a KHO root is one page).
  public static let maxRootSize = 1 << 20

  /// Every candidate root, by ascending address.
  public static func scan(_ memory: any PhysicalMemory, progress: ((Double) -> Void)? = nil) -> [Candidate] {
    var out: [Candidate] = []
    let g = memory.geometry
    let total = Double(Swift.max(memory.capturedBytes, 1))
    var done: UInt64 = 0
    for seg in memory.segments {
      // A segment may end at the top of the address space: page steps stop there.
      let (up, noPage) = seg.start.rawValue.addingReportingOverflow(g.pageMask)
      if noPage { continue }
      var a = up & ~g.pageMask
      while a < seg.end, seg.end - a >= UInt64(FDTHeader.size) {
        if let c = candidate(memory, PhysAddr(a)) { out.append(c) }
        let (next, wrapped) = a.addingReportingOverflow(g.pageSize64)
        if wrapped { break }
        a = next
        done += g.pageSize64
        if done & ((1 << 30) - 1) == 0 { progress?(Double(done) / total) }
      }
    }
    return out
  }

  /// The candidate at `address`, if that page holds a KHO root FDT.
  public static func candidate(_ memory: any PhysicalMemory, _ address: PhysAddr) -> Candidate? {
    guard let head = try? memory.bytes(at: address, count: FDTHeader.size),
      let h = try? FDTHeader(reading: head), h.totalSize >= UInt32(FDTHeader.size),
      Int(h.totalSize) <= maxRootSize,
      let blob = try? memory.bytes(at: address, count: Int(h.totalSize)),
      let fdt = try? FDT(parsing: blob),
      let compatible = fdt.root.property("compatible")?.string, compatible.hasPrefix("kho-")
    else { return nil }
    return Candidate(address: address, compatible: compatible, totalSize: Int(h.totalSize))
  }
}

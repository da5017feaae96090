import Foundation
import KHOCore
import KHOFormats
import KHOImage

/// Cuts a handover down to the pages reachable from its root: a bundle.
public enum Packer {
  /// What a pack wrote.
  public struct Result: Codable, Sendable {
    public var root: PhysAddr
    public var ranges: Int
    public var pages: Int
    public var bytes: Int
    public var problems: Int
  }

  /// Walks `source` and writes a bundle of every page the walk read, plus
  /// the preserved data pages the source captured when `withData`.
  public static func pack(
    _ source: HandoverSource, withData: Bool = false, compress: Bool = true, sourceName: String? = nil
  ) throws -> (bundle: [UInt8], result: Result, report: HandoverReport) {
    let walker = HandoverWalker(source: source)
    let report = walker.walk()
    guard let root = source.rootAddress else {
      throw DecodeError(
        .missing,
        "the root FDT's physical address is unknown (debugfs does not expose it); give --fdt-phys")
    }
    if withData, let set = walker.preserved {
      let g = set.geometry
      for e in set {
        if let n = e.byteCount(g) { walker.memory.touch(PhysRange(start: e.phys, size: n)) }
      }
    }
    let ranges = walker.touchedRanges
    let note = BundleNote(
      root: root, geometry: source.memory.geometry,
      source: sourceName ?? URL(fileURLWithPath: source.path).lastPathComponent)
    let bytes = try BundleWriter.write(source.memory, ranges: ranges, note: note, compress: compress)
    let pages = ranges.reduce(0) { $0 + Int(($1.size + source.memory.geometry.pageMask) >> UInt64(source.memory.geometry.pageShift)) }
    return (
      bytes,
      Result(
        root: root, ranges: ranges.count, pages: pages, bytes: bytes.count,
        problems: report.problems.count),
      report
    )
  }
}

// SPDX-License-Identifier: Apache-2.0
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
    let p = try plan(source, withData: withData, sourceName: sourceName)
    let bytes = try BundleWriter.write(source.memory, ranges: p.ranges, note: p.note, compress: compress)
    return (bytes, p.result(bytes: bytes.count), p.report)
  }

  /// ``pack(_:withData:compress:sourceName:)`` streamed to the file at
  /// `path`: the bundle is compressed as it is written, so memory does not
  /// grow with the pages packed.
  public static func pack(
    _ source: HandoverSource, withData: Bool = false, compress: Bool = true, sourceName: String? = nil,
    to path: String
  ) throws -> (result: Result, report: HandoverReport) {
    let p = try plan(source, withData: withData, sourceName: sourceName)
    guard FileManager.default.createFile(atPath: path, contents: nil),
      let handle = FileHandle(forWritingAtPath: path)
    else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    defer { try? handle.close() }
    var written = 0
    try BundleWriter.write(source.memory, ranges: p.ranges, note: p.note, compress: compress) {
      (piece: UnsafeRawBufferPointer) throws(DecodeError) in
      do { try handle.write(contentsOf: Data(piece)) } catch {
        throw DecodeError(.unreadable, "cannot write \(path): \(error.localizedDescription)")
      }
      written += piece.count
    }
    return (p.result(bytes: written), p.report)
  }

  /// What goes into a bundle: the walk, and the ranges it read.
  private struct Plan {
    var root: PhysAddr
    var ranges: [PhysRange]
    var note: BundleNote
    var report: HandoverReport
    var geometry: PageGeometry

    func result(bytes: Int) -> Result {
      let pages = ranges.reduce(0) { $0 + Int(($1.size + geometry.pageMask) >> UInt64(geometry.pageShift)) }
      return Result(root: root, ranges: ranges.count, pages: pages, bytes: bytes, problems: report.problems.count)
    }
  }

  private static func plan(_ source: HandoverSource, withData: Bool, sourceName: String?) throws -> Plan {
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
    let note = BundleNote(
      root: root, geometry: source.memory.geometry,
      source: sourceName ?? URL(fileURLWithPath: source.path).lastPathComponent)
    return Plan(
      root: root, ranges: walker.touchedRanges, note: note, report: report, geometry: source.memory.geometry)
  }
}

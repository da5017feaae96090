// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCompat
import KHOCore
import KHOFormats
import KHOImage
import Testing

@testable import KHOInspect

/// Helpers shared by the conversion tests.
enum ConvertSupport {
  static let kernelImages = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/kernel-images")

  static func demoSource() throws -> HandoverSource {
    let demo = try DemoHandover.build()
    return HandoverSource(capturing: demo.image, root: demo.rootAddress, rootBytes: nil, scratch: nil, path: "demo")
  }

  static func kernelSource() throws -> HandoverSource {
    try HandoverSource.open(kernelImages.appendingPathComponent("kho-v4-luo-v4.elf.zst").path)
  }

  static func bundleSource(_ r: ImageConversion.Result) throws -> HandoverSource {
    try HandoverSource.open(bytes: Bytes(r.bundle), name: "converted")
  }

  static func convert(_ source: HandoverSource, _ names: [String]) throws -> ImageConversion.Result {
    try ImageConversion.convert(source, targets: try ModelConverter.targets(names))
  }

  /// The refusal `names` meets, or nil when it converts.
  static func refusal(_ source: HandoverSource, _ names: [String]) -> ConversionError? {
    do {
      _ = try ImageConversion.convert(source, targets: try ModelConverter.targets(names))
      return nil
    } catch {
      return error
    }
  }

  /// Checks everything a conversion promises about its result.
  static func checkInvariants(_ r: ImageConversion.Result, source: HandoverSource) throws {
    let g = r.converted.geometry
    // The bundle opens without --fdt-phys and validates clean.
    let reopened = try bundleSource(r)
    #expect(reopened.kind == .bundle)
    #expect(reopened.rootAddress == r.encoded.root)
    let report = HandoverWalker(source: reopened).walk()
    #expect(!report.hasProblems, "\(report.problems.prefix(3))")
    // New preserved set = old data (old set minus old metadata) + new metadata pages.
    var expected = r.decoded.model.preservedData
    for p in r.encoded.metadataPages { _ = try expected.insert(pfn: p, order: 0) }
    #expect(r.encoded.preserved == expected)
    #expect(
      r.decoded.preserved.subtracting(r.decoded.model.preservedData).pageCount <= UInt64(r.decoded.metadataPages.count))
    // New metadata and map lie above everything the source held or used.
    let lowest = (r.encoded.metadataPages + r.encoded.mapPages).min() ?? 0
    #expect(lowest << UInt64(g.pageShift) >= r.decoded.highestAddress)
    for p in r.encoded.metadataPages + r.encoded.mapPages {
      #expect(!source.memory.isCaptured(PhysRange(start: PhysAddr(p << UInt64(g.pageShift)), size: 1)))
    }
    // Captured data pages are copied byte for byte to the same addresses.
    var checked = 0
    for e in r.decoded.model.preservedData where checked < 64 {
      guard let n = e.byteCount(g), source.memory.isCaptured(PhysRange(start: e.phys, size: n)) else { continue }
      let old = try source.memory.bytes(at: e.phys, count: Int(n)).array
      #expect(try r.image.bytes(at: e.phys, count: Int(n)).array == old)
      checked += 1
    }
    // The converted handover reads back as what was converted.
    let back = try HandoverModel.decode(from: reopened.memory, root: r.encoded.root)
    #expect(back.model.contentLines() == r.converted.contentLines())
    #expect(back.model.preservedData == r.decoded.model.preservedData)
  }

  /// Memfd states by (session name, token): what must survive any conversion.
  static func memfds(_ m: HandoverModel) -> [String: MemfdState] {
    guard let l = m.luo else { return [:] }
    var out: [String: MemfdState] = [:]
    for (ref, md) in l.memfds {
      let s = l.state.sessions[ref.session]
      out["\(s.name)/\(s.files[ref.file].token)"] = md.state
    }
    return out
  }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import KHOFormats
import KHOImage

@testable import KHOInspect

/// The handover images in Specs/vectors/images/: the demo bundle and
/// corrupted variants, each with the exit code and problem kind that
/// `khodump validate` must report.
enum GoldenImages {
  struct Case: Sendable {
    var file: String
    var exitCode: Int32
    var kind: String?
    var corrupt: @Sendable (DemoHandover, LUODecoded) throws -> Void
  }

  static let directory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Specs/vectors/images")

  static let cases: [Case] = [
    Case(file: "demo.kho", exitCode: 0, kind: nil) { _, _ in },
    Case(file: "session-chain-cycle.kho", exitCode: 1, kind: "cycle") { demo, luo in
      // The one session block points back at itself.
      if let b = luo.layout.sessionBlocks.first { demo.image.store(b.address.rawValue, at: b.address) }
    },
    Case(file: "session-block-count-zero.kho", exitCode: 1, kind: "badCount") { demo, luo in
      if let b = luo.layout.sessionBlocks.first { demo.image.store(UInt64(0), at: PhysAddr(b.address.rawValue + 8)) }
    },
    Case(file: "flb-pointer-not-captured.kho", exitCode: 1, kind: "notCaptured") { demo, luo in
      // luo_ser.flbs_pa (compatible 8 + number 8 + sessions 8) → far away.
      demo.image.store(UInt64(0x7000_0000_0000), at: PhysAddr(luo.layout.blob.rawValue + 24))
    },
    Case(file: "root-fdt-truncated.kho", exitCode: 1, kind: "truncated") { demo, _ in
      // size_dt_struct (big-endian, offset 36) cut to 16: the structure
      // block ends before FDT_END.
      demo.image.write([0, 0, 0, 16], at: PhysAddr(demo.rootAddress.rawValue + 36))
    },
    Case(file: "root-unknown-compatible.kho", exitCode: 1, kind: "unknownVersion") { demo, _ in
      // "kho-v4" → "kho-v9" in the strings-free value of the root compatible.
      let page = try demo.image.bytes(at: demo.rootAddress, count: 4096).array
      if let i = page.indices.first(where: { page[$0..<min($0 + 6, page.count)].elementsEqual(Array("kho-v4".utf8)) }) {
        demo.image.write([UInt8(ascii: "9")], at: PhysAddr(demo.rootAddress.rawValue + UInt64(i) + 5))
      }
    },
  ]

  /// Builds the bundle of one case.
  static func build(_ c: Case) throws -> [UInt8] {
    let demo = try DemoHandover.build()
    let source = HandoverSource(
      capturing: demo.image, root: demo.rootAddress, rootBytes: nil, scratch: nil, path: "demo")
    // Pack the clean handover first so the bundle holds every page the
    // clean walk reaches, then corrupt the image those pages come from.
    let walker = HandoverWalker(source: source)
    walker.walk()
    let ranges = walker.touchedRanges
    if let luo = walker.luo { try c.corrupt(demo, luo) }
    let note = BundleNote(root: demo.rootAddress, geometry: demo.image.geometry, source: c.file)
    return try BundleWriter.write(demo.image, ranges: ranges, note: note)
  }
}

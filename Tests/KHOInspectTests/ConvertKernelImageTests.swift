// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCompat
import KHOCore
import KHOFormats
import KHOImage
import Testing

@testable import KHOInspect

/// `khodump convert` on a handover the kernel's own code wrote
/// (kho-v4 root, luo-v4 with 55 sessions, memfd-v1, memblock, kexec metadata).
@Suite("Convert: kernel image kho-v4-luo-v4")
struct ConvertKernelImageTests {
  static let original = ["kho-v4", "luo-v4", "memfd-v1"]

  @Test(
    "converts to other versions and back with equal content",
    arguments: [
      ["luo-v5", "memfd-v2"],
      ["luo-v3", "kho-v3"],
      ["luo-v1"],
      ["luo-v5;block-v1", "memfd-v2;vmalloc-v1", "kho-v4;radix-v1;vmalloc-v1"],
    ])
  func roundTrip(targets: [String]) throws {
    let source = try ConvertSupport.kernelSource()
    let there = try ConvertSupport.convert(source, targets)
    try ConvertSupport.checkInvariants(there, source: source)
    #expect(there.converted.contentLines() == there.decoded.model.contentLines())
    let middle = try ConvertSupport.bundleSource(there)
    let back = try ConvertSupport.convert(middle, Self.original)
    try ConvertSupport.checkInvariants(back, source: middle)
    #expect(back.converted.componentVersions == there.decoded.model.componentVersions)
    #expect(back.converted.contentLines(details: true) == there.decoded.model.contentLines(details: true))
    #expect(ConvertSupport.memfds(back.converted) == ConvertSupport.memfds(there.decoded.model))
  }

  @Test("the converted LUO says what the kernel wrote (expected.json)")
  func matchesExpected() throws {
    let json = try Data(contentsOf: ConvertSupport.kernelImages.appendingPathComponent("kho-v4-luo-v4.expected.json"))
    let expected = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    let luo = try #require(expected["luo"] as? [String: Any])
    let sessions = try #require(luo["sessions"] as? [[String: Any]])
    let r = try ConvertSupport.convert(try ConvertSupport.kernelSource(), ["luo-v5", "memfd-v2"])
    let reopened = try ConvertSupport.bundleSource(r)
    let report = HandoverWalker(source: reopened).walk()
    let got = try #require(report.luo)
    #expect(got.version == "luo-v5")
    #expect(got.sessions.count == 55)
    #expect(got.sessions.map(\.name) == sessions.compactMap { $0["name"] as? String })
    #expect(got.sessions.map(\.files.count) == sessions.compactMap { $0["file_count"] as? Int })
    #expect(got.sessions.first?.files.count == 100)
    for (s, want) in zip(got.sessions, sessions) {
      let files = want["files"] as? [[String: Any]] ?? []
      #expect(s.files.map(\.token) == files.compactMap { ($0["token"] as? NSNumber)?.uint64Value })
      #expect(s.files.allSatisfy { $0.compatible == "memfd-v2" })
      for (f, w) in zip(s.files, files) {
        let m = w["memfd"] as? [String: Any]
        #expect(f.memfd?.size == (m?["size"] as? NSNumber)?.uint64Value)
        #expect(f.memfd?.pos == (m?["pos"] as? NSNumber)?.uint64Value)
        #expect(f.memfd?.folios == m?["nr_folios"] as? Int)
      }
    }
    #expect(report.kexecMetadata?.previousRelease == "7.1.0-luo4-kho-oracle")
    #expect(report.memblock?.first?.name == "trace")
  }

  @Test("kho-v1 and kho-v2 are refused: kexec-metadata is a raw sub-blob")
  func rawBlobsNeedBlobSize() throws {
    let source = try ConvertSupport.kernelSource()
    let e = try #require(ConvertSupport.refusal(source, ["kho-v2", "luo-v2"]))
    #expect(e.kind == .lossy)
    #expect(e.violations.map(\.path) == ["/kexec-metadata"])
    let five = try #require(ConvertSupport.refusal(source, ["luo-v5", "kho-v3"]))
    #expect(five.kind == .unsatisfiedRequirement)
  }
}

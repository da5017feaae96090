// SPDX-License-Identifier: Apache-2.0
import KHOCompat
import KHOCore
import KHOFormats
import KHOImage
import Testing

@testable import KHOInspect

/// `khodump convert` on the demo handover (kho-v4, luo-v5 with memfd-v2
/// files, kexec metadata, a kho-xarray-v2 with marks).
@Suite("Convert: demo handover")
struct ConvertDemoTests {
  static let original = ["kho-v4", "luo-v5", "memfd-v2", "kho-xarray-v2"]

  @Test(
    "converts to other versions and back with equal content and a clean result",
    arguments: [
      ["luo-v4"],
      ["luo-v3", "kho-v3"],
      ["luo-v2", "memfd-v2;vmalloc-v1"],
      ["luo-v1", "kho-v4;radix-v1;vmalloc-v1"],
      ["luo-v5;block-v1", "memfd-v2;vmalloc-v1", "kho-v4;radix-v1;vmalloc-v1"],
    ])
  func roundTrip(targets: [String]) throws {
    let source = try ConvertSupport.demoSource()
    let there = try ConvertSupport.convert(source, targets)
    try ConvertSupport.checkInvariants(there, source: source)
    for t in targets {
      #expect(there.converted.componentVersions.values.contains(t), "\(t)")
    }
    // Nothing but versions changed.
    #expect(there.converted.contentLines() == there.decoded.model.contentLines())
    #expect(ConvertSupport.memfds(there.converted) == ConvertSupport.memfds(there.decoded.model))

    let middle = try ConvertSupport.bundleSource(there)
    let back = try ConvertSupport.convert(middle, Self.original)
    try ConvertSupport.checkInvariants(back, source: middle)
    #expect(back.converted.componentVersions == there.decoded.model.componentVersions)
    #expect(back.converted.contentLines() == there.decoded.model.contentLines())
    #expect(back.converted.preservedData == there.decoded.model.preservedData)
    let l0 = try #require(there.decoded.model.luo)
    let l2 = try #require(back.converted.luo)
    #expect(l2.state.sessions.map(\.name) == l0.state.sessions.map(\.name))
    #expect(l2.state.sessions.map { $0.files.map(\.token) } == l0.state.sessions.map { $0.files.map(\.token) })
    #expect(l2.state.flbs == l0.state.flbs)
    #expect(l2.state.liveUpdateNumber == l0.state.liveUpdateNumber)
    #expect(ConvertSupport.memfds(back.converted) == ConvertSupport.memfds(there.decoded.model))
  }

  @Test("memfd folios keep their PFNs and captured file pages their bytes")
  func dataStaysPut() throws {
    let source = try ConvertSupport.demoSource()
    let r = try ConvertSupport.convert(source, ["luo-v4"])
    let g = r.image.geometry
    let reopened = try ConvertSupport.bundleSource(r)
    let luo = try #require(HandoverWalker(source: reopened).walk().luo)
    let demoLUO = try #require(HandoverWalker(source: source).walk().luo)
    for (s, d) in zip(luo.sessions, demoLUO.sessions) {
      for (f, df) in zip(s.files, d.files) {
        #expect(f.memfd?.folios == df.memfd?.folios)
        guard MemfdVersion(rawValue: df.compatible) != nil else {
          // Other payloads (the KVM guest) stay where they were.
          #expect(f.data == df.data && f.compatible == df.compatible)
          continue
        }
        #expect(f.data != df.data)  // the state was written afresh
        let new = try Memfd.decode(from: reopened.memory, at: f.data, version: .v2)
        let old = try Memfd.decode(from: source.memory, at: df.data, version: .v2)
        #expect(new.state == old.state)
        // Small memfds' contents were captured: same bytes at the same pages.
        if new.state.folios.count < 16 {
          let a = try Memfd.readContents(new, from: reopened.memory)
          let b = try Memfd.readContents(old, from: source.memory)
          #expect(a.data == b.data)
        }
      }
    }
    #expect(r.summary.copiedPages > 0)
    #expect(r.summary.metadataBase.rawValue % (1 << 30) == 0)
    _ = g
  }

  @Test("lossy targets are refused naming every session, file and field")
  func refusals() throws {
    let source = try ConvertSupport.demoSource()
    let seals = try #require(ConvertSupport.refusal(source, ["memfd-v1"]))
    #expect(seals.kind == .lossy && seals.component == .memfd)
    #expect(seals.violations.count == 5)
    #expect(
      seals.violations.first?.description
        == "/LUO/sessions[0]/files[0].seals: memfd token 0x1000 of session 'vm-00' has seals 0x1 (SEAL) (no memfd has seals set (memfd-v1 cannot store them))"
    )
    #expect(seals.violations.map(\.path).contains("/LUO/sessions[4]/files[0]"))

    let root = try #require(ConvertSupport.refusal(source, ["kho-v2"]))
    #expect(root.kind == .lossy && root.component == .kho)
    #expect(root.violations.map(\.path) == ["/kexec-metadata", "/LUO", "/kho-xarray"])
    #expect(root.violations[1].detail == "luo-v5 is a raw 32-byte luo_ser, not an FDT")

    let marks = try #require(ConvertSupport.refusal(source, ["kho-xarray-v1"]))
    #expect(marks.kind == .lossy && marks.violations.allSatisfy { $0.condition == .xarrayNoMarks })
    #expect(marks.violations.first?.description.hasPrefix("/kho-xarray.index 0x0: carries marks") == true)

    // Several components at once: every violation of every one.
    let both = try #require(ConvertSupport.refusal(source, ["memfd-v1", "kho-v1"]))
    #expect(both.kind == .lossy && both.component == nil)
    #expect(Set(both.violations.map(\.condition)) == [.memfdNoSeals, .allSubBlobsAreFDT])

    let blocks = try #require(ConvertSupport.refusal(source, ["kho-v3"]))
    #expect(blocks.kind == .unsatisfiedRequirement)
    #expect(blocks.message.hasPrefix("luo-v5 needs kho kho-v4"))

    let map = try #require(ConvertSupport.refusal(source, ["bitmap-chunks-v1"]))
    #expect(map.kind == .badTarget && map.component == .memoryMap)

    #expect(throws: ConversionError.self) { try ModelConverter.targets(["luo-v9"]) }
    #expect(throws: ConversionError.self) { try ModelConverter.targets(["luo-v4", "luo-v5"]) }
    // An opaque string is no target; a decoded payload version with one layout is (there is nothing to convert).
    #expect(throws: ConversionError.self) { try ModelConverter.targets(["rxe-liveupdate-v1"]) }
    #expect(try ModelConverter.targets(["kvm_vm_luo_v1"]) == [.init("kvm_vm_luo"): "kvm_vm_luo_v1"])
  }

  @Test("a source with decode errors is refused, not half-converted")
  func brokenSource() throws {
    let demo = try DemoHandover.build()
    // Break the LUO blob's compatible string.
    let root = try KHORoot.decode(try demo.readRoot())
    let luo = try #require(root.subBlob(named: "LUO"))
    demo.image.write(Array("luo-v9\0".utf8), at: luo.address)
    let source = HandoverSource(
      capturing: demo.image, root: demo.rootAddress, rootBytes: nil, scratch: nil, path: "broken")
    let e = try #require(ConvertSupport.refusal(source, ["luo-v4"]))
    #expect(e.kind == .unreadableSource)
    #expect(e.message.contains("/LUO"))
  }
}

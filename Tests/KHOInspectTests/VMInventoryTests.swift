// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats
import KHOImage
import Testing

@testable import KHOInspect

/// The demo's KVM guest through the walker: payloads, cross-checks, `vms`.
@Suite("VM inventory")
struct VMInventoryTests {
  func walk(_ demo: DemoHandover) -> (HandoverWalker, HandoverReport) {
    let source = HandoverSource(
      capturing: demo.image, root: demo.rootAddress, rootBytes: nil, scratch: nil, path: "demo")
    let w = HandoverWalker(source: source)
    return (w, w.walk())
  }

  func file(_ demo: DemoHandover, _ token: UInt64) throws -> LUOFile {
    let s = try #require(demo.luo.sessions.first { $0.name == DemoVM.session })
    return try #require(s.files.first { $0.token == token })
  }

  @Test("the demo VM decodes field for field and is complete")
  func demoComplete() throws {
    let demo = try DemoHandover.build()
    let (w, report) = walk(demo)
    #expect(report.problems.isEmpty, "\(report.problems)")
    let inv = VMInventory.build(w.payloads, problems: report.problems, geometry: demo.image.geometry)
    let vm = try #require(inv.vms.first)
    #expect(inv.vms.count == 1)
    #expect(vm.session == DemoVM.session && vm.token == 0x10 && vm.layout == "K-A" && vm.type == 0)
    #expect(vm.complete)
    #expect(vm.memory.map(\.token) == [0x11, 0x12])
    #expect(vm.memory.map(\.size) == [0x4000, 0x2000])
    #expect(vm.memory.map(\.nrFolios) == [3, 1])
    #expect(vm.memory.map(\.preservedBytes) == [0x3000, 0x1000])
    #expect(vm.vcpus.map(\.vcpuId) == [0, 1])
    #expect(vm.vcpus[0].rip == "0xffffffff81000000")
    #expect(vm.vcpus[1].caretaker && vm.vcpus[1].controlBlock == "CB-1 ATTACHED")
    #expect(
      vm.otherFiles.map(\.compatible) == ["huge-memfd-v1", "vfio-pci-v2", "vfio-pci-v2", "vfio-pci-v2", "iommufd-v1"])
    #expect(vm.devices == ["0000:01:00.0", "0000:01:00.1", "0000:02:00.0"])
    // The hugetlb FLB and the VM's fields as the upstream structs name them.
    let flb = try #require(w.payloads.flbs.first { $0.name == "hugetlb-v1" }?.payload)
    #expect(
      flb.fields["hstates"]
        == .array([
          .object([("nr_pages", .int(2)), ("order", .int(9))]), .object([("nr_pages", .int(0)), ("order", .int(18))]),
        ]))
    let vmPayload = try #require(w.payloads.files.first { $0.token == 0x10 }?.payload)
    #expect(vmPayload.fields["nr_mem_attrs"] == .int(2))
    #expect(
      vmPayload.fields["mem_attrs"]?["entries"]
        == .array([
          .object([("gfn", .hex(0x100)), ("attributes", .hex(8))]),
          .object([("gfn", .hex(0x101)), ("attributes", .hex(8))]),
        ]))
    // The report carries the payloads for JSON.
    let luoFiles = try #require(report.luo?.sessions.last?.files)
    #expect(
      luoFiles.compactMap { $0.payload?["format"] } == [
        .string("kvm_vm_luo_v1 K-A"), .string("guest_memfd_luo_v1"), .string("guest_memfd_luo_v1"),
        .string("kvm_vcpu_luo_v1 V-1"), .string("kvm_vcpu_luo_v1 V-1"), .string("huge-memfd-v1"),
        .string("vfio-pci-v2 V7"), .string("vfio-pci-v2 V7"), .string("vfio-pci-v2 V7"), .string("iommufd-v1"),
      ])
  }

  @Test("an unpreserved guest_memfd folio and a vCPU whose VM token names nothing make the VM incomplete")
  func demoBroken() throws {
    let demo = try DemoHandover.build()
    let g = demo.image.geometry
    // Point the first folio of guest_memfd 0x11 at a page that is not preserved.
    let gmAddr = try file(demo, 0x11).data
    let gm = try #require(
      try Payloads.decode(
        PayloadContext(memory: demo.image, address: gmAddr, host: .file, compatible: GuestMemfd.compatible, path: "/")))
    let arrayPage = try #require(gm.references.first { $0.what.hasSuffix("array page") }).address
    let stray: UInt64 = 0x66_6000
    demo.image.store(stray | (UInt64(GuestMemfdPayload.folioUptodate) << 52), at: arrayPage)
    // vCPU 1 names VM token 0x99, which is no file.
    let cpuAddr = try file(demo, 0x21).data
    demo.image.store(UInt64(0x99), at: PhysAddr(cpuAddr.rawValue + 8))

    let (w, report) = walk(demo)
    let strayAddr = try #require(PhysAddr.ofPage(stray, g))
    let notPreserved = try #require(report.problems.first { $0.kind == "notPreserved" && $0.address == strayAddr })
    #expect(notPreserved.severity == .error)
    #expect(notPreserved.path.hasSuffix("/payload/folios[0]"))
    #expect(notPreserved.message.contains("session '\(DemoVM.session)'") && notPreserved.message.contains("token 0x11"))
    let dangling = try #require(
      report.problems.first { $0.kind == "missing" && $0.path.hasSuffix("/payload/vm_token") })
    #expect(dangling.address == cpuAddr)
    #expect(dangling.message.contains("0x99") && dangling.message.contains("token 0x21"))

    let inv = VMInventory.build(w.payloads, problems: report.problems, geometry: g)
    let vm = try #require(inv.vms.first)
    #expect(!vm.complete)
    #expect(vm.vcpus.map(\.vcpuId) == [0])
    // The control block still names VM 0x10: that disagreement is reported too.
    #expect(Set(vm.problems.map(\.kind)) == ["notPreserved", "missing", "inconsistent"], "\(vm.problems)")
    #expect(vm.problems.contains { $0.kind == "inconsistent" && $0.path.hasSuffix("/payload/cb") })
  }

  @Test("vCPU ids must be unique per VM; huge-memfd orders must have an hstate")
  func duplicatesAndHstates() throws {
    let demo = try DemoHandover.build()
    let cpu1 = try file(demo, 0x21).data
    demo.image.store(UInt32(0), at: cpu1)  // vCPU 1 now claims id 0
    let flb = try #require(demo.luo.flbs.first { $0.name == HugeTLBFLB.name })
    demo.image.write([10], at: PhysAddr(flb.data + 8))  // hstate order 9 → 10
    let (_, report) = walk(demo)
    #expect(report.problems.contains { $0.kind == "duplicate" && $0.path.hasSuffix("/payload/vcpu_id") })
    #expect(report.problems.contains { $0.kind == "inconsistent" && $0.message.contains("matches no hstate") })
  }

  @Test("a hwpoison PFN that is a preserved page is reported")
  func poisonedPreserved() throws {
    let g = PageGeometry.x86_64
    let image = PhysicalImage(geometry: g)
    var w = PayloadWriter(image: image, allocator: PageAllocator(start: 0x1_0000_0000, pages: 64))
    let (blob, size) = try HWPoison.encode(HWPoisonPayload(form: .raw, pfns: [0x20_0000, 0x20_0005]), into: &w)
    var set = PreservedSet(geometry: g)
    for e in w.preserved { _ = try set.insert(e) }
    _ = try set.insert(pfn: 0x20_0005, order: 0)
    let inv = PayloadInventory.build(
      luo: nil, subBlobs: [KHOSubBlob(name: "hwpoison", address: blob, size: size)], memory: image, preserved: set)
    let problems = PayloadChecks.run(inv, preserved: set)
    #expect(problems.map(\.kind) == ["poisonedPreserved"])
    #expect(problems.first?.address == PhysAddr(0x2_0000_5000))
  }

  @Test("diff names a changed payload and a changed FLB")
  func diffPayloads() throws {
    let a = try DemoHandover.build()
    let b = try DemoHandover.build()
    b.image.store(UInt32(7), at: try file(b, 0x21).data)  // vCPU 1 becomes vCPU 7
    let flb = try #require(b.luo.flbs.first { $0.name == HugeTLBFLB.name })
    b.image.store(UInt64(5), at: PhysAddr(flb.data))  // 5 huge pages of order 9
    let d = HandoverDiff(walk(a).0, walk(b).0)
    let payload = try #require(d.changes.first { $0.what == "payload" && $0.path.hasSuffix("/files/33") })
    #expect(payload.before?.hasPrefix("vCPU 1,") == true && payload.after?.hasPrefix("vCPU 7,") == true)
    #expect(d.changes.contains { $0.path == "/LUO/flbs/hugetlb-v1" && $0.after?.hasPrefix("5 × 2 MiB") == true })
    #expect(HandoverDiff(walk(a).0, walk(try DemoHandover.build()).0).isEmpty)
  }
}

/// Hostile input (issue 20, classes 6 and 10).
@Suite("Hostile names and damaged diffs")
struct HostileInputTests {
  @Test("a session name with control characters is escaped in text and reported")
  func controlCharacters() throws {
    let demo = try DemoHandover.build()
    let source = HandoverSource(
      capturing: demo.image, root: demo.rootAddress, rootBytes: nil, scratch: nil, path: "demo")
    let w = HandoverWalker(source: source)
    w.walk()
    let luo = try #require(w.luo)
    let entry = try #require(luo.layout.sessionEntries.first)
    let evil = "\u{1b}[31mEVIL\u{1b}[0m\nfake: line\r\u{07}"
    var bytes = Array(evil.utf8)
    bytes += [UInt8](repeating: 0, count: 64 - bytes.count)
    demo.image.write(bytes, at: entry)
    let report = HandoverWalker(
      source: HandoverSource(capturing: demo.image, root: demo.rootAddress, rootBytes: nil, scratch: nil, path: "demo")
    ).walk()
    let text = ReportText(depth: 3).render(report)
    #expect(!text.unicodeScalars.contains { $0 == "\u{1b}" || $0 == "\u{07}" || $0 == "\r" })
    #expect(text.contains("session \\e[31mEVIL\\e[0m\\nfake: line\\r\\a"))
    let warning = try #require(report.problems.first { $0.kind == "badString" })
    #expect(warning.severity == .warning && warning.path == "/LUO/sessions[0]")
    #expect(!needsEscaping(warning.message))
  }

  @Test("diff of an input that does not decode says which side is damaged")
  func damagedDiff() throws {
    let cycle = GoldenImages.directory.appendingPathComponent("session-chain-cycle.kho").path
    let a = HandoverWalker(source: try HandoverSource.open(cycle))
    let b = HandoverWalker(source: try HandoverSource.open(cycle))
    let d = HandoverDiff(a, b)
    #expect(!d.isEmpty)
    #expect(d.changes.isEmpty)
    #expect(d.damaged.map(\.side) == ["a", "b"])
    #expect(d.damaged.allSatisfy { $0.problems.contains { $0.kind == "cycle" } })
    #expect(d.text.hasPrefix("! a ("))
    #expect(!d.text.contains("no differences"))
  }
}

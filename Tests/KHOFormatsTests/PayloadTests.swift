// SPDX-License-Identifier: Apache-2.0
import KHOCore
import PropertyBased
import Testing

@testable import KHOFormats

/// Payload decoders: byte layouts against hand-written structs, layout
/// discrimination, and malformed input.
@Suite("Payloads")
struct PayloadTests {
  func image() -> (PhysicalImage, PageAllocator) {
    (PhysicalImage(), PageAllocator(start: 0x1_0000_0000, pages: 1 << 12))
  }

  func ctx(
    _ m: any PhysicalMemory, _ a: PhysAddr, _ compatible: String, host: PayloadHost = .file,
    orders: [PhysAddr: Int] = [:]
  )
    -> PayloadContext
  {
    PayloadContext(
      memory: m, address: a, host: host, compatible: compatible, path: "/f", preservedOrder: { orders[$0] })
  }

  /// Little-endian bytes of u64 words.
  func words(_ ws: [UInt64]) -> [UInt8] { ws.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } } }

  @Test("guest_memfd decodes a hand-written struct field for field")
  func guestMemfdByHand() throws {
    let (img, _) = image()
    // Array page with two entries, a chunk pointing at it, then the struct.
    img.write(words([0x10_0000_0020_0000, 0, 0x10_0000_0020_0001, 5]), at: 0x1_0000_0000)
    img.write(words([0, 0x1_0000_0000]), at: 0x1_0000_1000)
    img.write(words([0x6000, 3, 2, 0x77, 0x1_0000_1000]) + [1, 0, 0, 0, 1, 0, 0, 0], at: 0x1_0000_2000)
    let d = try #require(try Payloads.decode(ctx(img, 0x1_0000_2000, "guest_memfd_luo_v1")))
    let s = try #require(d.state as? GuestMemfdPayload)
    #expect(s.size == 0x6000 && s.flags == 3 && s.vmToken == 0x77)
    #expect(
      s.folios == [MemfdFolio(pfn: 0x20_0000, flags: 1, index: 0), MemfdFolio(pfn: 0x20_0001, flags: 1, index: 5)])
    #expect(d.fields["nr_folios"] == .int(2))
    #expect(d.fields["folios"]?["first"] == .hex(0x1_0000_1000))
    // Index 5 is past the 6-page file? No: 0x6000 is 6 pages, index 5 is the last.
    #expect(Payloads.decodeReporting(ctx(img, 0x1_0000_2000, "guest_memfd_luo_v1")).isClean)
    let folioRefs = d.references.filter { $0.kind == .folio }
    #expect(folioRefs.map(\.address) == [0x2_0000_0000, 0x2_0000_1000])
  }

  @Test("guest_memfd: bad flags, unaligned size, duplicate and out-of-file indices, a count past the array")
  func guestMemfdBad() throws {
    let (img, _) = image()
    img.write(words([0x20_0000, 0, 0x20_0001, 0, 0x20_0002, 9]), at: 0x1_0000_0000)
    img.write(words([0, 0x1_0000_0000]), at: 0x1_0000_1000)
    img.write(words([0x2001, 0x4, 1000, 0x10, 0x1_0000_1000]) + [1, 0, 0, 0, 1, 0, 0, 0], at: 0x1_0000_2000)
    let o = Payloads.decodeReporting(ctx(img, 0x1_0000_2000, "guest_memfd_luo_v1"))
    let kinds = o.problems.map(\.kind)
    #expect(kinds.contains(.unsupported))
    #expect(kinds.contains(.outOfRange))
    #expect(kinds.contains(.truncated))  // 1000 entries do not fit one page
    #expect(kinds.contains(.duplicate))  // index 0 twice
    #expect(o.problems.contains { $0.kind == .outOfRange && $0.path.description == "/f/folios[2]" })
    // The strict decode throws the first of them.
    #expect(throws: DecodeError.self) { try Payloads.decode(ctx(img, 0x1_0000_2000, "guest_memfd_luo_v1")) }
    // The count was clamped to the 256 entries the page holds.
    let s = try #require(o.value?.state as? GuestMemfdPayload)
    #expect(s.folios.count == 256)
  }

  @Test("kvm_vm: each layout is told apart by content")
  func kvmLayouts() throws {
    for layout in [KVMVMPayload.Layout.memoryAttributes, .archState, .pageTableFolios, .typeOnly] {
      let (img, alloc) = image()
      var w = PayloadWriter(image: img, allocator: alloc)
      var s = KVMVMPayload(layout: layout, type: 3)
      s.memoryAttributes = layout == .memoryAttributes ? [.init(gfn: 1, attributes: 8)] : []
      s.cpuid =
        layout == .archState ? [KVMCPUIDEntry(function: 0, eax: 0x16), KVMCPUIDEntry(function: 1, eax: 0x906ea)] : []
      s.pageTables = layout == .pageTableFolios ? [0x5_0000_0000, 0x5_0000_3000] : []
      let a = try KVMVM.encode(s, into: &w)
      let d = try #require(try Payloads.decode(ctx(img, a, "kvm_vm_luo_v1")))
      let got = try #require(d.state as? KVMVMPayload)
      #expect(got.layout == layout)
      #expect(d.format == "kvm_vm_luo_v1 \(layout.rawValue)")
      #expect(got.type == 3)
      #expect(got.memoryAttributes == s.memoryAttributes)
      #expect(got.cpuid == s.cpuid)
      #expect(got.pageTables == s.pageTables)
    }
  }

  @Test("kvm_vm: a pointer whose target fits neither K-B nor K-C is ambiguous, not guessed")
  func kvmAmbiguous() throws {
    let (img, _) = image()
    // Target: u32 count 0x1000 (too many CPUID entries), then an unaligned word.
    img.write(words([0x1000, 0x1234]), at: 0x1_0000_1000)
    img.write(words([0, 0x1_0000_1000]), at: 0x1_0000_0000)
    let o = Payloads.decodeReporting(ctx(img, 0x1_0000_0000, "kvm_vm_luo_v1"))
    let s = try #require(o.value?.state as? KVMVMPayload)
    #expect(s.layout == .ambiguous)
    #expect(o.problems.map(\.kind) == [.inconsistent])
    // Not captured: also ambiguous, with a notCaptured problem.
    img.write(words([0, 0x7_0000_0000]), at: 0x1_0000_0000)
    let o2 = Payloads.decodeReporting(ctx(img, 0x1_0000_0000, "kvm_vm_luo_v1"))
    #expect((o2.value?.state as? KVMVMPayload)?.layout == .ambiguous)
    #expect(o2.problems.map(\.kind) == [.notCaptured])
  }

  @Test("kvm_vcpu: the three control-block forms and the x86 state")
  func vcpuForms() throws {
    for form in CaretakerControlBlock.Form.allCases {
      let (img, alloc) = image()
      var w = PayloadWriter(image: img, allocator: alloc)
      var s = KVMVCPUPayload(vcpuId: 9, flags: KVMVCPUPayload.flagCaretaker, vmToken: 0x4_0000_1234)
      var cb = CaretakerControlBlock(form: form, state: 1, pcpuId: 12, vcpuId: 9)
      if form == .cb1 { cb.vmToken = s.vmToken; cb.vcpuToken = 0x99 }
      if form != .cb3 { cb.runtimePA = 0x8_0000_0000; cb.runtimeSize = 0x1000 }
      if form == .cb3 { cb.telemetryValues = [1, 2, 3, 4, 5, 6, 7] }
      s.controlBlock = cb
      s.x86 = KVMVCPUX86State(rip: 0xfff0, rflags: 2, mpState: 1, numMsrs: 2)
      let a = try KVMVCPU.encode(s, into: &w)
      let orders = Dictionary(w.preserved.map { ($0.phys, $0.order) }, uniquingKeysWith: { a, _ in a })
      let o = Payloads.decodeReporting(ctx(img, a, "kvm_vcpu_luo_v1", orders: orders))
      #expect(o.isClean, "\(form): \(o.problems)")
      let got = try #require(o.value?.state as? KVMVCPUPayload)
      #expect(got.controlBlock?.form == form)
      #expect(got.controlBlock?.pcpuId == 12)
      #expect(got.controlBlock?.telemetryValues == cb.telemetryValues)
      #expect(got.controlBlock?.runtimePA == cb.runtimePA)
      #expect(got.x86 == s.x86)
      // The arch state is an order-1 allocation (6712 + 32 bytes).
      #expect(orders[got.archState] == 1)
    }
  }

  @Test("kvm_vcpu: cb without CARETAKER, and a control block of no known form")
  func vcpuBad() throws {
    let (img, _) = image()
    img.write(words([0xffff, 0xffff, 0xffff]), at: 0x1_0000_1000)  // no vcpu_id 5 at 8 or 12
    img.write([5, 0, 0, 0, 0, 0, 0, 0] + words([0x10, 0, 0x1_0000_1000]), at: 0x1_0000_0000)
    let o = Payloads.decodeReporting(ctx(img, 0x1_0000_0000, "kvm_vcpu_luo_v1"))
    #expect(o.problems.map(\.kind) == [.inconsistent, .inconsistent])
    #expect((o.value?.state as? KVMVCPUPayload)?.controlBlock == nil)
  }

  @Test("hugetlb FLB: nr_hstates past four is clamped and reported; repeated orders are duplicates")
  func hugetlbBad() throws {
    let (img, _) = image()
    var raw = [UInt8](repeating: 0, count: 37)
    raw[0] = 3; raw[8] = 9; raw[9] = 1; raw[17] = 9; raw[36] = 200
    img.write(raw, at: 0x1_0000_0000)
    let o = Payloads.decodeReporting(ctx(img, 0x1_0000_0000, "hugetlb-v1", host: .flb))
    // Clamped to four slots: the repeated order 9, then two empty slots of order 0.
    #expect(o.problems.map(\.kind) == [.outOfRange, .duplicate, .outOfRange, .outOfRange])
    #expect((o.value?.state as? HugeTLBPayload)?.hstates.count == 4)
    // The same string as a file compatible is not a hugetlb payload.
    #expect(!Payloads.isKnown("hugetlb-v1", host: .file))
  }

  @Test("huge-memfd: folios not aligned to the order are reported")
  func hugeMemfdMisaligned() throws {
    let (img, alloc) = image()
    var w = PayloadWriter(image: img, allocator: alloc)
    let a = try HugeMemfd.encode(
      HugeMemfdPayload(size: 0x40_0000, order: 9, folios: [MemfdFolio(pfn: 0x4_0001, flags: 0, index: 3)]), into: &w)
    let o = Payloads.decodeReporting(ctx(img, a, "huge-memfd-v1"))
    #expect(o.problems.map(\.kind) == [.misaligned])
    let r = try #require(o.value?.references.first { $0.kind == .folio })
    #expect(r.order == 9 && r.pages == 512)
  }

  @Test("tmpfs-file: names that are not one path component are refused", arguments: ["a/b", "..", "", "."])
  func tmpfsNames(name: String) throws {
    let (img, _) = image()
    var raw = [UInt8](repeating: 0, count: 312)
    raw.replaceSubrange(56..<56 + name.utf8.count, with: Array(name.utf8))
    img.write(raw, at: 0x1_0000_0000)
    let o = Payloads.decodeReporting(ctx(img, 0x1_0000_0000, "tmpfs-file-v1"))
    #expect(o.problems.map(\.kind).contains(.badString))
  }

  @Test("hwpoison raw: version other than 1 is refused; FDT form reads count and pfns")
  func hwpoison() throws {
    let (img, alloc) = image()
    img.write(words([2]), at: 0x1_0000_0000)
    let o = Payloads.decodeReporting(ctx(img, 0x1_0000_0000, "hwpoison", host: .subnode))
    #expect(o.value == nil && o.problems.map(\.kind) == [.unknownVersion])
    var w = PayloadWriter(image: img, allocator: alloc)
    w.allocator = PageAllocator(start: 0x1_0010_0000, pages: 64)
    let r = try HWPoison.encode(HWPoisonPayload(form: .fdt, pfns: [0x42, 0x43, 0x44]), into: &w)
    let d = try #require(try Payloads.decode(ctx(img, r.address, "hwpoison", host: .subnode)))
    #expect((d.state as? HWPoisonPayload)?.pfns == [0x42, 0x43, 0x44])
    #expect(d.format == "hwpoison-v1")
  }

  @Test("MSHV: root_table missing or of the wrong size is an error (the next kernel panics)")
  func mshvBad() throws {
    let (img, _) = image()
    let dtb = try FDTBuilder.build(
      DeviceTreeNode(
        "", properties: [.string("compatible", "mshv_kho-v1"), DeviceTreeProperty("root_table", [1, 2, 3, 4])]))
    img.write(dtb, at: 0x1_0000_0000)
    let o = Payloads.decodeReporting(ctx(img, 0x1_0000_0000, "mshv_prsv_pt", host: .subnode))
    #expect(o.problems.map(\.kind) == [.badCount])
    let dtb2 = try FDTBuilder.build(DeviceTreeNode("", properties: [.string("compatible", "mshv_kho-v2")]))
    img.write(dtb2 + [UInt8](repeating: 0, count: 64), at: 0x1_0000_0000)
    let o2 = Payloads.decodeReporting(ctx(img, 0x1_0000_0000, "mshv_prsv_pt", host: .subnode))
    #expect(o2.problems.map(\.kind) == [.unknownVersion, .missing])
  }

  @Test("MSHV M-A: raw-PFN keys are recognised and read back as pages")
  func mshvRawKeys() throws {
    let (img, alloc) = image()
    var w = PayloadWriter(image: img, allocator: alloc)
    // A raw-PFN tree is what the map's formula reads as very high orders.
    var keys = PreservedSet()
    for pfn: UInt64 in [0x12_3456, 0x12_3457] {
      let top = 63 - pfn.leadingZeroBitCount
      let order = 52 - top
      _ = try keys.insert(PhysAddr(pfn << UInt64(12 + order)), order: order)
    }
    let r = try MSHVPreserved.encode(MSHVPayload(layout: .rawPFN, rootTable: .zero, deposited: keys), into: &w)
    let d = try #require(try Payloads.decode(ctx(img, r.address, "mshv_prsv_pt", host: .subnode)))
    let s = try #require(d.state as? MSHVPayload)
    #expect(s.layout == .rawPFN)
    #expect(s.deposited.map(\.phys) == [0x1_2345_6000, 0x1_2345_7000])
    #expect(s.deposited.map(\.order) == [0, 0])
  }

  @Test("pstore: a size larger than the allocation is truncated, not read")
  func pstoreBad() throws {
    let (img, _) = image()
    img.write([1, 0, 0, 0, 0, 0, 0, 0] + words([1 << 40]), at: 0x1_0000_0000)
    let o = Payloads.decodeReporting(ctx(img, 0x1_0000_0000, "pstore-kho", host: .subnode))
    #expect(o.problems.map(\.kind) == [.truncated])
    #expect((o.value?.state as? PstorePayload)?.preview.isEmpty == true)
  }

  @Test("an unknown string stays opaque")
  func unknown() throws {
    let (img, _) = image()
    #expect(try Payloads.decode(ctx(img, 0x1_0000_0000, "foo-liveupdate-v1")) == nil)
    // rxe registers its string but has no format: recognised, and reported as such.
    let rxe = Payloads.decodeReporting(ctx(img, 0x1_0000_0000, "rxe-liveupdate-v1"))
    #expect(rxe.value == nil && rxe.problems.map(\.kind) == [.unsupported])
    let o = Payloads.decodeReporting(ctx(img, 0x1_0000_0000, "vfio-pci-v9"))
    #expect(o.value == nil && o.problems.isEmpty)
  }

  @Test("guest_memfd, huge-memfd and tmpfs files round-trip random folio sets")
  func folioRoundTrips() async {
    await propertyCheck(input: Gen.int(in: 0...600), Gen.int(in: 0...1_000_000)) { count, seed in
      var rng = SplitMix(seed: UInt64(seed))
      var used = Set<UInt64>()
      var fs: [MemfdFolio] = []
      while fs.count < count {
        let idx = rng.next() % 4096
        if used.insert(idx).inserted {
          fs.append(MemfdFolio(pfn: 1 + rng.next() % 0xf_ffff_ffff, flags: UInt16(rng.next() % 4), index: idx))
        }
      }
      let (img, alloc) = image()
      var w = PayloadWriter(image: img, allocator: alloc)
      let gm = GuestMemfdPayload(size: 4096 * 4096, flags: 1, vmToken: rng.next(), folios: fs)
      let a = try! GuestMemfd.encode(gm, into: &w)
      let back = Payloads.decodeReporting(ctx(img, a, "guest_memfd_luo_v1"))
      #expect(back.isClean)
      #expect((back.value?.state as? GuestMemfdPayload)?.folios == fs)
      let tf = TmpfsFilePayload(mntToken: 1, size: 4096 * 4096, mode: 0o600, folios: fs, name: "f\(seed)")
      let b = try! TmpfsFile.encode(tf, into: &w)
      let back2 = Payloads.decodeReporting(ctx(img, b, "tmpfs-file-v1"))
      #expect((back2.value?.state as? TmpfsFilePayload)?.folios == fs)
      #expect((back2.value?.state as? TmpfsFilePayload)?.name == "f\(seed)")
    }
  }
}

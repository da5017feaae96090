// SPDX-License-Identifier: Apache-2.0
import KHOCore
import Testing

@testable import KHOFormats

/// PCI, VFIO, IOMMU, iommufd and CPU payloads: layouts, links and malformed input.
@Suite("Device payloads")
struct DeviceTests {
  func writer() -> PayloadWriter {
    PayloadWriter(image: PhysicalImage(), allocator: PageAllocator(start: 0x1_0000_0000, pages: 1 << 12))
  }

  func ctx(_ w: PayloadWriter, _ a: PhysAddr, _ name: String, _ host: PayloadHost, pci: Set<UInt64>? = nil)
    -> PayloadContext
  {
    let orders = Dictionary(w.preserved.map { ($0.phys, $0.order) }, uniquingKeysWith: { a, _ in a })
    var c = PayloadContext(
      memory: w.image, address: a, host: host, compatible: name, path: "/p", preservedOrder: { orders[$0] })
    c.pciDevices = pci
    return c
  }

  @Test("pci FLB version 2: five slots, one free, four devices, field for field", arguments: PCIPayload.Layout.allCases)
  func pciLayouts(layout: PCIPayload.Layout) throws {
    var w = writer()
    var slots = PayloadVectors.pciSlots
    if !layout.hasRefcount { slots = slots.filter { $0.refcount != 0 } }
    var s = PCIPayload(layout: layout, nrDevices: 4, slots: slots)
    s.version = 2
    let a = try PCIFLB.encode(s, into: &w)
    let o = Payloads.decodeReporting(ctx(w, a, layout.string, .flb))
    #expect(o.isClean, "\(layout): \(o.problems)")
    let d = try #require(o.value?.state as? PCIPayload)
    #expect(d.layout == layout)
    #expect(d.devices.map(\.name) == ["0000:00:01.0", "0000:01:00.0", "0000:01:00.1", "0000:02:00.0"])
    if layout.hasRefcount {
      #expect(d.slots.count == 5 && d.slots[2] == PCIDevice(domain: 0, bdf: 0, refcount: 0))
      #expect(d.devices.map(\.refcount) == [3, 1, 1, 1])
    }
    #expect(d.nrDevices == 4)
    if layout == .p7 { #expect(d.version == 2) }
  }

  @Test("pci: the raw P7 bytes are the upstream struct")
  func pciBytes() throws {
    var w = writer()
    var s = PCIPayload(layout: .p7, nrDevices: 4, slots: PayloadVectors.pciSlots)
    s.version = 2
    let a = try PCIFLB.encode(s, into: &w)
    let top = try w.image.bytes(at: a, count: 16).array
    #expect(top[0] == 2 && top[4] == 4)  // u32 version, u32 nr_devices
    let chain = PhysAddr(
      top[8..<16].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
    let block = try w.image.bytes(at: chain, count: 16 + 5 * 8).array
    #expect(block[8] == 5)  // the block header's count: five slots
    // Slot 0: u32 domain 0, u16 bdf 0x0008, u16 refcount 3.
    #expect(Array(block[16..<24]) == [0, 0, 0, 0, 0x08, 0x00, 0x03, 0x00])
    #expect(block[32..<40].allSatisfy { $0 == 0 })  // the free slot is zero
  }

  @Test("pci: a duplicate device, a dirty free slot, a wrong count, an unknown version")
  func pciBad() throws {
    var w = writer()
    var s = PCIPayload(
      layout: .p7, nrDevices: 5,
      slots: [
        PCIDevice(domain: 0, bdf: 0x100), PCIDevice(domain: 0, bdf: 0x100),
        PCIDevice(domain: 0, bdf: 0x200, refcount: 0),
      ])
    s.version = 1
    let a = try PCIFLB.encode(s, into: &w)
    w.image.store(UInt32(5), at: PhysAddr(a.rawValue + 4))  // nr_devices 5
    let o = Payloads.decodeReporting(ctx(w, a, "pci", .flb))
    #expect(Set(o.problems.map(\.kind)) == [.duplicate, .inconsistent])
    #expect(o.problems.contains { $0.kind == .inconsistent && $0.message.contains("free slot") })
    #expect(o.problems.contains { $0.kind == .inconsistent && $0.message.contains("nr_devices is 5") })
    w.image.store(UInt32(3), at: a)
    #expect(Payloads.decodeReporting(ctx(w, a, "pci", .flb)).problems.map(\.kind) == [.unknownVersion])
  }

  @Test("vfio-pci-v1: the PCI FLB's devices settle bdf-first against domain-first")
  func vfioReadings() throws {
    var w = writer()
    // V6 of 0001:01:00.0: 01 00 00 00 | 00 01.
    let a = try VFIOPCI.encode(VFIOPCIPayload(layout: .v6, domain: 1, bdf: 0x100), into: &w)
    let without = Payloads.decodeReporting(ctx(w, a, "vfio-pci-v1", .file))
    #expect(without.value == nil && without.problems.map(\.kind) == [.inconsistent])
    let pci: Set<UInt64> = [1 << 16 | 0x100]
    let with = try #require(
      Payloads.decodeReporting(ctx(w, a, "vfio-pci-v1", .file, pci: pci)).value?.state as? VFIOPCIPayload)
    #expect(with.layout == .v6 && with.device.name == "0001:01:00.0")
    // V5 with its token and reset bit.
    let b = try VFIOPCI.encode(
      VFIOPCIPayload(layout: .v5, domain: 2, bdf: 0x300, resetWorks: 1, iommufdToken: 9), into: &w)
    let v5 = try #require(try Payloads.decode(ctx(w, b, "vfio-pci-v1", .file))?.state as? VFIOPCIPayload)
    #expect(v5.layout == .v5 && v5.iommufdToken == 9 && v5.resetWorks == 1 && v5.device.name == "0002:03:00.0")
  }

  @Test("iommu: each layout round-trips with its page table walked", arguments: IOMMULayout.ID.allCases)
  func iommuLayouts(layout: IOMMULayout.ID) throws {
    var w = writer()
    let a = try PayloadVectors.iommu(layout, &w)
    let name = layout == .i1 ? "iommu-v1" : layout == .i2 || layout == .i3 ? "iommu-liveupdate-v1" : "iommu-liveupdate"
    let o = Payloads.decodeReporting(ctx(w, a, name, .flb))
    #expect(o.isClean, "\(layout): \(o.problems)")
    let s = try #require(o.value?.state as? IOMMUPayload)
    #expect(s.layout == layout)
    #expect(s.hardware.map(\.type) == [1] && s.hardware[0].token == 1)
    #expect(s.domains.count == 2 && s.domains[1].header.isDeleted)
    let t = try #require(s.domains[0].pageTable)
    #expect(t.tables.count == 5)  // top, one level-2, one level-1, two leaf tables (IOVA 0 and 2 MiB)
    #expect(t.mappedBytes == 3 * 4096)
    #expect(t.mappings.map(\.iova) == [0, 0x20_0000] && t.mappings.map(\.size) == [0x2000, 0x1000])
    #expect(s.devices.map(\.pci.name) == ["0000:01:00.0", "0000:01:00.1"])
    #expect(s.devices[0].header.isIncoming && s.devices[0].domainPhys == s.domains[0].address)
    #expect(s.devices.allSatisfy { $0.iommuPhys == s.hardware[0].address })
    // The DMA targets are references the walker checks against the map.
    let targets = try #require(o.value?.references.filter { $0.what.hasPrefix("DMA target") })
    #expect(targets.map(\.address) == [0x2_0000_0000, 0x2_0010_0000] && targets.map(\.pages) == [2, 1])
  }

  @Test("iommu: a device on a DELETED domain, a count past the page, a page-table cycle")
  func iommuBad() throws {
    var w = writer()
    let a = try PayloadVectors.iommu(.i3, &w)
    let s = try #require(try Payloads.decode(ctx(w, a, "iommu-liveupdate-v1", .flb))?.state as? IOMMUPayload)
    // Device 1 now points at the deleted domain (I3: domain_phys at +24).
    w.image.store(s.domains[1].address.rawValue, at: PhysAddr(s.devices[1].address.rawValue + 24))
    // The leaf table's first entry points back at the top table.
    let top = s.domains[0].topTable
    var table = top
    for _ in 0..<3 { table = PhysAddr(try w.image.u64(at: table) & IOMMUPageTable.addressMask) }
    w.image.store(
      top.rawValue | 3,
      at: PhysAddr(
        try w.image.u64(at: PhysAddr(try w.image.u64(at: top) & IOMMUPageTable.addressMask))
          & IOMMUPageTable.addressMask + 8))
    let o = Payloads.decodeReporting(ctx(w, a, "iommu-liveupdate-v1", .flb))
    #expect(o.problems.contains { $0.kind == .inconsistent && $0.message.contains("DELETED domain") })
    #expect(o.problems.contains { $0.kind == .cycle })
    // nr_objects beyond a page's capacity.
    let devArray = PhysAddr(s.devices[0].address.rawValue - 16)
    w.image.store(UInt64(1000), at: PhysAddr(devArray.rawValue + 8))
    let o2 = Payloads.decodeReporting(ctx(w, a, "iommu-liveupdate-v1", .flb))
    #expect(o2.problems.contains { $0.kind == .badCount && $0.message.contains("1000") })
  }

  @Test("iommufd-v1: HWPTs read back; a repeated token is a duplicate")
  func iommufd() throws {
    var w = writer()
    let a = try IOMMUFD.encode(
      IOMMUFDPayload(hwpts: [.init(domainData: 0x1000, token: 4), .init(domainData: 0x2000, token: 4)]), into: &w)
    let o = Payloads.decodeReporting(ctx(w, a, "iommufd-v1", .file))
    #expect(o.problems.map(\.kind) == [.duplicate])
    #expect((o.value?.state as? IOMMUFDPayload)?.hwpts.map(\.domainData) == [0x1000, 0x2000])
  }

  @Test("cpu: the C2 file by its magic; a C5 FLB's CPU list")
  func cpu() throws {
    var w = writer()
    var f = [UInt8](repeating: 0, count: 36)
    f.replaceSubrange(0..<4, with: [0x46, 0x55, 0x50, 0x43])  // "CPUF" as a little-endian u32
    f[4] = 5
    let file = try w.allocatePreserved(f)
    let c2 = try #require(try Payloads.decode(ctx(w, file, "cpu_fh_v1", .file))?.state as? CPUPayload)
    #expect(c2.layouts == ["C2"] && c2.cpus == [5])
    // C5: text/data runtime pages, a list of two CPUs, arch_mode x2APIC.
    let cpu2 = try w.allocatePreserved([2, 0, 0, 0, 1, 0, 0, 0] + [UInt8](repeating: 0, count: 32))
    var first = [3, 0, 0, 0, 1, 0, 0, 0] + [UInt8](repeating: 0, count: 24)
    first += withUnsafeBytes(of: cpu2.rawValue.littleEndian) { Array($0) }
    let cpu1 = try w.allocatePreserved(first)
    var flb: [UInt8] = []
    for v: UInt64 in [0x3_0000_0000, 0x20_0000, 0x3_0020_0000, 0x1000, cpu1.rawValue, 1] {
      flb += withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }
    let top = try w.allocatePreserved(flb)
    let o = Payloads.decodeReporting(ctx(w, top, "cpu_flb_v1", .flb))
    let c5 = try #require(o.value?.state as? CPUPayload)
    #expect(c5.layouts == ["C5"] && c5.cpus == [3, 2])
  }
}

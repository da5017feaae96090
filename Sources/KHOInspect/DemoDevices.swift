// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// The demo's passthrough devices: what `khodump devices` shows.
///
/// A `pci` FLB (version 2) of five slots, one free: a bridge 0000:00:01.0
/// counting the three devices at or below it, two functions behind it and
/// one more device; `vfio-pci-v2` files for the three endpoints in the
/// KVM guest's session; an `iommu-liveupdate-v1` FLB (layout I3) with one
/// Intel unit, two domains whose 4-level page tables map guest memory, and
/// the three devices attached; an `iommufd-v1` file naming one domain.
enum DemoDevices {
  struct Written {
    var files: [LUOFile]
    var pciFLB: PhysAddr
    var iommuFLB: PhysAddr
  }

  static let bridge = PCIDevice(domain: 0, bdf: 0x0008, refcount: 3)  // 0000:00:01.0
  static let endpoints = [
    PCIDevice(domain: 0, bdf: 0x0100, refcount: 1),  // 0000:01:00.0
    PCIDevice(domain: 0, bdf: 0x0101, refcount: 1),  // 0000:01:00.1
    PCIDevice(domain: 0, bdf: 0x0200, refcount: 1),  // 0000:02:00.0
  ]

  /// `guest`: guest-memory pages to map for DMA (IOVA from 0).
  static func write(into w: inout PayloadWriter, guest: [PhysAddr], huge: [PhysAddr]) throws -> Written {
    var pci = PCIPayload(
      layout: .p7, nrDevices: 4,
      slots: [bridge, endpoints[0], PCIDevice(domain: 0, bdf: 0, refcount: 0), endpoints[1], endpoints[2]])
    pci.version = 2
    let pciFLB = try PCIFLB.encode(pci, into: &w)

    let tableA = try IOMMUPageTable.build(
      guest.enumerated().map { (UInt64($0.offset) << 12, $0.element) }, levels: 4, into: &w)
    let tableB = try IOMMUPageTable.build(
      huge.enumerated().map { (0x4000_0000 + UInt64($0.offset) << 12, $0.element) }, levels: 4, into: &w)
    let root = try w.allocatePreserved()
    var hw = IOMMUHardware(header: IOMMUObjectHeader(refCount: 1), token: 1, type: 1)
    hw.registerBase = 0xfed9_0000
    hw.rootTable = root.rawValue
    let domains = [
      IOMMUDomain(header: IOMMUObjectHeader(refCount: 2), topTable: tableA, topLevel: 3, vasz: 48),
      IOMMUDomain(header: IOMMUObjectHeader(refCount: 1), topTable: tableB, topLevel: 3, vasz: 48),
    ]
    let devices = endpoints.map {
      IOMMUDevice(
        header: IOMMUObjectHeader(refCount: 1), devid: UInt32($0.bdf), pciDomain: $0.domain, domainPhys: .zero,
        iommuPhys: .zero)
    }
    let mmu = IOMMUPayload(layout: .i3, hardware: [hw], domains: domains, devices: devices)
    let iommuFLB = try IOMMUFLB.encode(mmu, domainIndex: [0, 0, 1], iommuIndex: [0, 0, 0], into: &w)
    // The domain objects' addresses, for iommufd.
    let decoded = try Payloads.decode(
      PayloadContext(memory: w.image, address: iommuFLB, host: .flb, compatible: "iommu-liveupdate-v1", path: "/"))
    let domainA = (decoded?.state as? IOMMUPayload)?.domains.first?.address ?? .zero

    var files: [LUOFile] = []
    for (i, e) in endpoints.enumerated() {
      let v = VFIOPCIPayload(
        layout: .v7, domain: e.domain, bdf: e.bdf, resetWorks: i == 2 ? 0 : 1, iommufdToken: i < 2 ? 7 : 0)
      files.append(LUOFile(compatible: "vfio-pci-v2", token: 0x40 + UInt64(i), data: try VFIOPCI.encode(v, into: &w)))
    }
    let fd = IOMMUFDPayload(hwpts: [.init(domainData: domainA, token: 7)])
    files.append(LUOFile(compatible: "iommufd-v1", token: 0x50, data: try IOMMUFD.encode(fd, into: &w)))
    return Written(files: files, pciFLB: pciFLB, iommuFLB: iommuFLB)
  }
}

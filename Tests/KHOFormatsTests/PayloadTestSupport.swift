// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore

@testable import KHOFormats

/// The payload golden vectors: how each is built, and its files.
///
/// Each vector is `Specs/vectors/payloads/<name>.bin` (the captured pages,
/// each trimmed after its last non-zero byte, concatenated in address
/// order) and `<name>.json` (where the pages are, what the payload hangs
/// under, the allocations and their preserved orders, and the decoded
/// `payload` object as `sessions --format json` prints it).
enum PayloadVectors {
  struct Case: Sendable {
    var name: String
    var host: PayloadHost
    var compatible: String
    /// Writes the payload; returns its address and (sub-nodes) blob size.
    var build: @Sendable (inout PayloadWriter) throws -> (PhysAddr, UInt64?)
  }

  struct File: Codable {
    var compatible: String
    var host: String
    var address: String
    var size: UInt64?
    var pageSize: Int
    var byteOrder: String
    var pages: [[String]]
    var preserved: [[String]]
    var payload: PayloadValue

    enum CodingKeys: String, CodingKey {
      case compatible, host, address, size, pages, preserved, payload
      case pageSize = "page_size"
      case byteOrder = "byte_order"
    }
  }

  static let start = PhysAddr(0x1_0000_0000)

  static func folios(_ pfns: [(UInt64, UInt16, UInt64)]) -> [MemfdFolio] {
    pfns.map { MemfdFolio(pfn: $0.0, flags: $0.1, index: $0.2) }
  }

  static let cases: [Case] =
    [
      Case(name: "guest_memfd", host: .file, compatible: GuestMemfd.compatible) { w in
        let s = GuestMemfdPayload(
          size: 0x4000, flags: GuestMemfdPayload.flagMmap, vmToken: 0x10,
          folios: folios([(0x20_0000, 1, 0), (0x20_0001, 1, 3)]))
        return (try GuestMemfd.encode(s, into: &w), nil)
      },
      Case(name: "kvm_vm-K-A", host: .file, compatible: KVMVM.compatible) { w in
        var s = KVMVMPayload(layout: .memoryAttributes, type: 0)
        s.memoryAttributes = [.init(gfn: 0x100, attributes: 8), .init(gfn: 0x200, attributes: 8)]
        return (try KVMVM.encode(s, into: &w), nil)
      },
      Case(name: "kvm_vm-K-B", host: .file, compatible: KVMVM.compatible) { w in
        var s = KVMVMPayload(layout: .archState, type: 0)
        s.cpuid = [
          KVMCPUIDEntry(function: 0, eax: 0xd, ebx: 0x756e_6547, ecx: 0x6c65_746e, edx: 0x4965_6e69),
          KVMCPUIDEntry(function: 1, eax: 0x806f8, ebx: 0x0010_0800, ecx: 0xfffa_3203, edx: 0x1f8b_fbff),
          KVMCPUIDEntry(function: 7, index: 0, flags: 1, ebx: 0xf1bf_07ab),
        ]
        return (try KVMVM.encode(s, into: &w), nil)
      },
      Case(name: "kvm_vm-K-C", host: .file, compatible: KVMVM.compatible) { w in
        var s = KVMVMPayload(layout: .pageTableFolios, type: 1)
        s.pageTables = [0x3_0000_0000, 0x3_0000_1000, 0x3_0000_5000]
        return (try KVMVM.encode(s, into: &w), nil)
      },
      Case(name: "kvm_vm-type-only", host: .file, compatible: KVMVM.compatible) { w in
        (try KVMVM.encode(KVMVMPayload(layout: .typeOnly, type: 2), into: &w), nil)
      },
      Case(name: "kvm_vcpu-plain", host: .file, compatible: KVMVCPU.compatible) { w in
        (try KVMVCPU.encode(KVMVCPUPayload(vcpuId: 0, vmToken: 0x10), into: &w), nil)
      },
      Case(name: "kvm_vcpu-x86-CB-1", host: .file, compatible: KVMVCPU.compatible) { w in
        var s = KVMVCPUPayload(vcpuId: 2, flags: KVMVCPUPayload.flagCaretaker, vmToken: 0x10)
        s.x86 = KVMVCPUX86State(rip: 0xffff_ffff_8100_0000, rflags: 0x246, mpState: 0, numMsrs: 3)
        var cb = CaretakerControlBlock(form: .cb1, state: 0, pcpuId: 5, vcpuId: 2)
        cb.vmToken = 0x10
        cb.vcpuToken = 0x22
        cb.runtimePA = 0x4_0000_0000
        cb.runtimeSize = 0x1000
        s.controlBlock = cb
        return (try KVMVCPU.encode(s, into: &w), nil)
      },
      Case(name: "kvm_vcpu-CB-2", host: .file, compatible: KVMVCPU.compatible) { w in
        var s = KVMVCPUPayload(vcpuId: 3, flags: KVMVCPUPayload.flagCaretaker, vmToken: 0x10)
        var cb = CaretakerControlBlock(form: .cb2, state: 1, pcpuId: 6, vcpuId: 3)
        cb.runtimePA = 0x4_0000_2000
        cb.runtimeSize = 0x2000
        s.controlBlock = cb
        return (try KVMVCPU.encode(s, into: &w), nil)
      },
      Case(name: "kvm_vcpu-CB-3", host: .file, compatible: KVMVCPU.compatible) { w in
        var s = KVMVCPUPayload(vcpuId: 4, flags: KVMVCPUPayload.flagCaretaker, vmToken: 0x10)
        var cb = CaretakerControlBlock(form: .cb3, state: 1, pcpuId: 7, vcpuId: 4)
        cb.telemetryValues = [1000, 250, 1, 30, 0xffff_ffff_8100_1234, 0, 0]
        s.controlBlock = cb
        return (try KVMVCPU.encode(s, into: &w), nil)
      },
      Case(name: "huge-memfd", host: .file, compatible: HugeMemfd.compatible) { w in
        let s = HugeMemfdPayload(
          size: 0x60_0000, order: 9, folios: folios([(0x4_0000, 0, 0), (0x4_0200, 0, 512), (0x4_0400, 0, 1024)]))
        return (try HugeMemfd.encode(s, into: &w), nil)
      },
      Case(name: "hugetlb", host: .flb, compatible: HugeTLBFLB.name) { w in
        (
          try HugeTLBFLB.encode(
            HugeTLBPayload(hstates: [.init(nrPages: 3, order: 9), .init(nrPages: 0, order: 18)]), into: &w), nil
        )
      },
      Case(name: "tmpfs-mnt", host: .file, compatible: TmpfsMount.compatible) { w in
        (try TmpfsMount.encode(TmpfsMountPayload(maxBlocks: 0x4_0000, mode: 0o1777), into: &w), nil)
      },
      Case(name: "tmpfs-file", host: .file, compatible: TmpfsFile.compatible) { w in
        let s = TmpfsFilePayload(
          mntToken: 0x40, pos: 100, size: 0x2800, mode: 0o644, folios: folios([(0x20_0010, 3, 0), (0x20_0011, 2, 2)]),
          name: "guest.img")
        return (try TmpfsFile.encode(s, into: &w), nil)
      },
      Case(name: "mshv-M-B", host: .subnode, compatible: MSHVPreserved.nodeName) { w in
        var set = PreservedSet()
        _ = try set.insert(pfn: 0x50_0000, order: 0)
        _ = try set.insert(pfn: 0x50_0001, order: 0)
        _ = try set.insert(pfn: 0x50_0200, order: 9)
        let r = try MSHVPreserved.encode(
          MSHVPayload(layout: .pfnOrder, rootTable: .zero, partitionIDs: [1, 7], deposited: set), into: &w)
        return (r.address, r.size)
      },
      Case(name: "hwpoison-raw", host: .subnode, compatible: HWPoison.nodeName) { w in
        let r = try HWPoison.encode(HWPoisonPayload(form: .raw, pfns: [0x12_3456, 0x12_3457]), into: &w)
        return (r.address, r.size)
      },
      Case(name: "hwpoison-fdt", host: .subnode, compatible: HWPoison.nodeName) { w in
        let r = try HWPoison.encode(HWPoisonPayload(form: .fdt, pfns: [0x12_3456]), into: &w)
        return (r.address, r.size)
      },
      Case(name: "pstore-raw", host: .subnode, compatible: PstoreKHO.nodeName) { w in
        let s = PstorePayload(
          form: .raw, size: 0, timeSec: 1_764_000_000, timeNsec: 5, count: 2, reason: 2, part: 1, compressed: false)
        let r = try PstoreKHO.encode(s, text: Array("Oops: last words\n".utf8), into: &w)
        return (r.address, r.size)
      },
      Case(name: "pstore-fdt", host: .subnode, compatible: PstoreKHO.nodeName) { w in
        let s = PstorePayload(
          form: .fdt, size: 0, timeSec: 1_764_000_000, timeNsec: 5, count: 2, reason: 2, part: 1, compressed: false)
        let r = try PstoreKHO.encode(s, text: Array("Oops: last words\n".utf8), into: &w)
        return (r.address, r.size)
      },
    ] + deviceCases

  static let pciSlots = [
    PCIDevice(domain: 0, bdf: 0x0008, refcount: 3), PCIDevice(domain: 0, bdf: 0x0100, refcount: 1),
    PCIDevice(domain: 0, bdf: 0, refcount: 0), PCIDevice(domain: 0, bdf: 0x0101, refcount: 1),
    PCIDevice(domain: 0, bdf: 0x0200, refcount: 1),
  ]

  /// An IOMMU FLB of one Intel unit, two domains (one with a 4-level table
  /// mapping three pages) and two devices.
  static func iommu(_ layout: IOMMULayout.ID, _ w: inout PayloadWriter) throws -> PhysAddr {
    let table = try IOMMUPageTable.build(
      [(0, PhysAddr(0x2_0000_0000)), (0x1000, PhysAddr(0x2_0000_1000)), (0x20_0000, PhysAddr(0x2_0010_0000))],
      levels: 4, into: &w)
    var hw = IOMMUHardware(header: IOMMUObjectHeader(refCount: 1), token: 1, type: 1)
    if layout != .i2 && layout != .i4 {
      hw.registerBase = 0xfed9_0000
      hw.rootTable = try w.allocatePreserved().rawValue
    }
    let domains = [
      IOMMUDomain(header: IOMMUObjectHeader(refCount: 2), topTable: table, topLevel: 3, vasz: layout == .i1 ? nil : 48),
      IOMMUDomain(
        header: IOMMUObjectHeader(refCount: 0, flags: IOMMUObjectHeader.deletedFlag), topTable: .zero, topLevel: 3,
        vasz: layout == .i1 ? nil : 48),
    ]
    let devices = [
      IOMMUDevice(
        header: IOMMUObjectHeader(refCount: 1, flags: IOMMUObjectHeader.incomingFlag), devid: 0x0100, pciDomain: 0,
        domainPhys: .zero, iommuPhys: .zero),
      IOMMUDevice(
        header: IOMMUObjectHeader(refCount: 1), devid: 0x0101, pciDomain: 0, domainPhys: .zero, iommuPhys: .zero),
    ]
    let state = IOMMUPayload(
      layout: layout, version: layout == .i4 || layout == .i5 ? 1 : nil, hardware: [hw], domains: domains,
      devices: devices)
    return try IOMMUFLB.encode(state, domainIndex: [0, 0], iommuIndex: [0, 0], into: &w)
  }

  static let deviceCases: [Case] = {
    var out: [Case] = []
    for layout in PCIPayload.Layout.allCases {
      out.append(
        Case(name: "pci-\(layout.rawValue)", host: .flb, compatible: layout.string) { w in
          var slots = pciSlots
          if !layout.hasRefcount { slots = slots.filter { $0.refcount != 0 } }
          var s = PCIPayload(layout: layout, nrDevices: 4, slots: slots)
          s.version = 2
          s.maxNrDevices = UInt64(slots.count)
          return (try PCIFLB.encode(s, into: &w), nil)
        })
    }
    for layout in [VFIOPCIPayload.Layout.v1, .v2, .v3, .v4, .v5, .v6, .v7] {
      out.append(
        Case(
          name: "vfio-pci-\(layout.rawValue)", host: .file, compatible: layout == .v7 ? "vfio-pci-v2" : "vfio-pci-v1"
        ) { w in
          var s = VFIOPCIPayload(
            layout: layout, domain: [.v1, .v2, .v6].contains(layout) ? 0 : 1, bdf: 0x0100,
            resetWorks: [.v4, .v5, .v7, .v2].contains(layout) ? 1 : nil,
            iommufdToken: [.v5, .v7].contains(layout) ? 7 : nil)
          if layout == .v2 {
            s.cfgSize = 4096
            s.rawBARs = [0xfe00_0000, 0, 0xfd00_000c, 0, 0, 0, 0]
          }
          return (try VFIOPCI.encode(s, into: &w), nil)
        })
    }
    for layout in IOMMULayout.ID.allCases {
      let compatible =
        layout == .i1 ? "iommu-v1" : layout == .i2 || layout == .i3 ? "iommu-liveupdate-v1" : "iommu-liveupdate"
      out.append(
        Case(name: "iommu-\(layout.rawValue)", host: .flb, compatible: compatible) { w in (try iommu(layout, &w), nil) }
      )
    }
    out.append(
      Case(name: "iommufd-v1", host: .file, compatible: "iommufd-v1") { w in
        (
          try IOMMUFD.encode(
            IOMMUFDPayload(hwpts: [
              .init(domainData: 0x1_0000_5010, token: 7), .init(domainData: 0x1_0000_5035, token: 9),
            ]), into: &w), nil
        )
      })
    return out
  }()

  /// Builds a case into a fresh image.
  static func build(_ c: Case) throws -> (image: PhysicalImage, writer: PayloadWriter, address: PhysAddr, size: UInt64?)
  {
    let image = PhysicalImage()
    var w = PayloadWriter(image: image, allocator: PageAllocator(start: start, pages: 1 << 12))
    let (a, size) = try c.build(&w)
    return (image, w, a, size)
  }

  /// A context for decoding a case, with the writer's preserved orders.
  static func context(
    _ memory: any PhysicalMemory, _ c: Case, _ address: PhysAddr, _ size: UInt64?, _ preserved: [PreservedEntry]
  )
    -> PayloadContext
  {
    let orders = Dictionary(preserved.map { ($0.phys, $0.order) }, uniquingKeysWith: { a, _ in a })
    return PayloadContext(
      memory: memory, address: address, size: size, host: c.host, compatible: c.compatible, path: "/payload",
      preservedOrder: { orders[$0] })
  }

  /// Canonical JSON of a payload (sorted keys), for comparisons.
  static func json(_ v: PayloadValue) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return String(decoding: try e.encode(v), as: UTF8.self)
  }
}

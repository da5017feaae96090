// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// The PCI devices a handover keeps attached, each with its VFIO state,
/// its IOMMU attachment and whether the next kernel can keep it working.
///
/// One entry per device the PCI FLB preserves (used slots). Its VFIO
/// state is the `vfio-pci` file naming the same (domain, bdf); its IOMMU
/// attachment the IOMMU FLB's device object with that requester id, and
/// the domain it points at. A device is complete when no error touches the
/// PCI FLB above it, its slot, its VFIO file, its IOMMU device object or
/// its domain (page-table pages and DMA targets included). The JSON shape
/// is documented in Specs/khodump-json.md.
public struct DeviceInventory: Codable, Sendable {
  public struct VFIO: Codable, Sendable {
    public var session: String
    public var token: UInt64
    public var layout: String
    public var resetWorks: UInt8?
    public var iommufdToken: UInt32?
  }
  public struct IOMMU: Codable, Sendable {
    public var layout: String
    public var device: PhysAddr
    public var domain: PhysAddr
    public var topTable: PhysAddr?
    public var levels: Int?
    public var vasz: UInt32?
    /// Bytes of IOVA space the table can address.
    public var iovaSpace: UInt64?
    public var mappedBytes: UInt64?
    public var mappedRanges: Int?
    public var tablePages: Int?
    public var incoming: Bool
  }
  public struct Device: Codable, Sendable {
    public var bdf: String
    public var domain: UInt32
    public var refcount: UInt16
    public var pciLayout: String
    public var vfio: VFIO?
    public var iommu: IOMMU?
    public var complete: Bool
    public var problems: [Problem]
  }

  public var devices: [Device]
  /// Errors that touch no listed device (a VFIO file whose device the PCI FLB lacks, say).
  public var problems: [Problem]

  public static func build(_ inv: PayloadInventory, problems all: [Problem]) -> DeviceInventory {
    guard let pciEntry = inv.flbs.first(where: { $0.payload?.state is PCIPayload }),
      let pci = pciEntry.payload?.state as? PCIPayload, let pciFormat = pciEntry.payload?.format
    else {
      let loose = all.filter { p in
        p.severity == .error
          && (inv.flbs.contains { e in
            PayloadChecks.flbUsers[e.name] != nil && e.name.hasPrefix("pci")
              && DecodePath(p.path).isWithin(e.path.parent(levels: 1) ?? e.path)
          }
            || inv.files.contains { e in
              e.name.hasPrefix("vfio-pci") && DecodePath(p.path).isWithin(e.path.parent(levels: 1) ?? e.path)
            })
      }
      return DeviceInventory(devices: [], problems: loose)
    }
    let mmu = inv.iommu
    var used = Set<String>()
    var out: [Device] = []
    let flbPath = pciEntry.path
    for (slot, d) in pci.slots.enumerated() where !pci.layout.hasRefcount || d.refcount != 0 {
      var paths = [flbPath.appending("devices").index(slot)]
      var device = Device(
        bdf: d.name, domain: d.domain, refcount: d.refcount, pciLayout: pciFormat, vfio: nil, iommu: nil,
        complete: true, problems: [])
      if let f = inv.files.first(where: {
        ($0.payload?.state as? VFIOPCIPayload).map { $0.domain == d.domain && $0.bdf == d.bdf } ?? false
      }),
        let v = f.payload?.state as? VFIOPCIPayload
      {
        device.vfio = VFIO(
          session: f.sessionName ?? "", token: f.token ?? 0, layout: v.layout.rawValue, resetWorks: v.resetWorks,
          iommufdToken: v.iommufdToken)
        paths.append(f.path.parent(levels: 1) ?? f.path)
      }
      if let (entry, state) = mmu,
        let (i, m) = state.devices.enumerated().first(where: {
          !$0.element.header.isDeleted && $0.element.pciDomain == d.domain
            && UInt16(truncatingIfNeeded: $0.element.devid) == d.bdf
        })
      {
        var info = IOMMU(
          layout: state.layout.rawValue, device: m.address, domain: m.domainPhys, incoming: m.header.isIncoming)
        paths.append(entry.path.appending("devices").index(i))
        if let j = state.domains.firstIndex(where: { $0.address == m.domainPhys }) {
          let dom = state.domains[j]
          paths.append(entry.path.appending("domains").index(j))
          info.topTable = dom.topTable
          info.levels = dom.levels
          info.vasz = dom.vasz
          let bits = dom.vasz.map(Int.init) ?? (12 + 9 * Swift.min(dom.levels, 6))
          info.iovaSpace = bits >= 64 ? UInt64.max : UInt64(1) << UInt64(bits)
          info.mappedBytes = dom.pageTable?.mappedBytes
          info.mappedRanges = dom.pageTable.map { $0.mappings.count + $0.omittedMappings }
          info.tablePages = dom.pageTable?.tables.count
        }
        device.iommu = info
      }
      let touching = all.filter { p in
        guard p.severity != .note else { return false }
        let path = DecodePath(p.path)
        return paths.contains { path.isWithin($0) } || flbPath.isWithin(path)
          || (p.message.contains(d.name)
            && (path.isWithin(flbPath) || mmu.map { path.isWithin($0.entry.path) } == true))
      }
      for p in touching { used.insert(p.description) }
      device.problems = touching
      device.complete = !touching.contains { $0.severity == .error }
      out.append(device)
    }
    let loose = all.filter { p in
      p.severity == .error && !used.contains(p.description)
        && (DecodePath(p.path).isWithin(flbPath)
          || inv.files.contains { e in
            e.name.hasPrefix("vfio-pci") && DecodePath(p.path).isWithin(e.path.parent(levels: 1) ?? e.path)
          })
    }
    return DeviceInventory(devices: out, problems: loose)
  }
}

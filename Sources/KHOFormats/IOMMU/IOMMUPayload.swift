// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The IOMMU core's FLB (`iommu-v1`, `iommu-liveupdate-v1`, `iommu-liveupdate`).
///
/// A top struct names three page-chained arrays (hardware units, domains,
/// devices); each array page is `{u64 next_array_phys; u64 nr_objects}`
/// then packed objects that start with an object header. Five layouts
/// (``IOMMULayout``) differ in header width and object sizes; where one
/// string has had two, each is tried and the one whose arrays, flags and
/// device links are consistent is kept.
public struct IOMMUPayload: PayloadState, Hashable {
  public var layout: IOMMULayout.ID
  /// I4/I5's `version`.
  public var version: UInt64?
  public var hardware: [IOMMUHardware]
  public var domains: [IOMMUDomain]
  public var devices: [IOMMUDevice]

  public init(
    layout: IOMMULayout.ID, version: UInt64? = nil, hardware: [IOMMUHardware] = [], domains: [IOMMUDomain] = [],
    devices: [IOMMUDevice] = []
  ) {
    self.layout = layout
    self.version = version
    self.hardware = hardware
    self.domains = domains
    self.devices = devices
  }

  /// The domain object at `address`.
  public func domain(at address: PhysAddr) -> IOMMUDomain? { domains.first { $0.address == address } }

  public var fields: PayloadValue {
    var out: [(String, PayloadValue)] = []
    if let version { out.append(("version", .int(version))) }
    out.append(
      (
        "iommus",
        .array(
          hardware.map { h in
            .object(
              [("phys", .hex(h.address.rawValue))] + h.header.fields + [
                ("token", .hex(h.token)), ("type", .int(h.type)), ("phys_addr", .hex(h.registerBase)),
                ("root_table", .hex(h.rootTable)),
              ])
          })
      ))
    out.append(
      (
        "domains",
        .array(
          domains.map { d in
            var f: [(String, PayloadValue)] =
              [("phys", .hex(d.address.rawValue))] + d.header.fields + [
                ("top_table_phys", .hex(d.topTable.rawValue)), ("top_level", .int(d.topLevel)),
              ]
            if let v = d.vasz { f.append(("vasz", .int(UInt64(v)))) }
            if let t = d.pageTable {
              f.append(("table_pages", .int(UInt64(t.tables.count))))
              f.append(("mapped_ranges", .int(UInt64(t.mappings.count + t.omittedMappings))))
              f.append(("mapped_bytes", .int(t.mappedBytes)))
            }
            return .object(f)
          })
      ))
    out.append(
      (
        "devices",
        .array(
          devices.map { d in
            .object(
              [("phys", .hex(d.address.rawValue))] + d.header.fields + [
                ("devid", .hex(UInt64(d.devid))), ("pci_domain_nr", .int(UInt64(d.pciDomain))),
                ("name", .string(d.pci.name)),
                ("attachment_id", .int(d.attachmentID)), ("domain_phys", .hex(d.domainPhys.rawValue)),
                ("iommu_phys", .hex(d.iommuPhys.rawValue)), ("pasid_table", .hex(d.pasidTable)),
                ("max_pasid", .int(d.maxPasid)),
                ("dma_owner_token", .hex(d.dmaOwnerToken)),
              ])
          })
      ))
    return .object(out)
  }

  public func summary(_ g: PageGeometry) -> String {
    let live = devices.filter { !$0.header.isDeleted }
    let mapped = domains.compactMap { $0.pageTable?.mappedBytes }.reduce(0, +)
    return
      "\(hardware.count) IOMMU\(hardware.count == 1 ? "" : "s"), \(domains.count) domain\(domains.count == 1 ? "" : "s") (\(formatBytes(mapped)) mapped), \(live.count) device\(live.count == 1 ? "" : "s")"
  }
}

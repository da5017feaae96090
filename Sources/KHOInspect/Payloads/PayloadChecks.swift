// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// The cross-checks that span payloads, the preserved-memory map and the session.
///
/// Each finding is a located ``Problem``:
/// - `notPreserved` (error): a page a payload names is not in the map; a
///   folio in it at another order is `inconsistent` (warning);
/// - `missing` (error): a guest_memfd's or vCPU's `vm_token` (a tmpfs
///   file's `mnt_token`) names no `kvm_vm_luo_v1` (`tmpfs-mnt-v1`) file of
///   the same session;
/// - `duplicate` (error): two vCPUs of one VM with the same id;
/// - `inconsistent` (error): a huge-memfd order that no hstate of the
///   `hugetlb-v1` FLB has, or an hstate with fewer pages than the folios of
///   its order;
/// - `poisonedPreserved` (error): a hwpoison PFN that is a preserved page;
/// - `overlap` (warning): MSHV deposited pages that other payloads use.
public enum PayloadChecks {
  /// Runs every check; `preserved` is `nil` when the map could not be read in full.
  public static func run(_ inv: PayloadInventory, preserved: PreservedSet?) -> [Problem] {
    var out: [Problem] = []
    for e in inv.all { out += e.problems.map(Problem.init) }
    if let set = preserved { out += preservation(inv, set) }
    out += tokens(inv)
    out += hugetlb(inv)
    if let set = preserved { out += hwpoison(inv, set) }
    out += mshv(inv, preserved)
    out += devices(inv)
    out += flbCounts(inv)
    return out
  }

  /// Which file handlers use which FLB (an FLB's count is their number).
  static let flbUsers: [String: Set<String>] = [
    "pci-v1": ["vfio-pci-v1", "vfio-pci-v2"], "pci-v2": ["vfio-pci-v1", "vfio-pci-v2"],
    "pci": ["vfio-pci-v1", "vfio-pci-v2"],
    "iommu-v1": ["iommufd-v1"], "iommu-liveupdate-v1": ["iommufd-v1"], "iommu-liveupdate": ["iommufd-v1"],
    "hugetlb-v1": ["huge-memfd-v1"], "cpu_flb_v1": ["cpu_fh_v1"],
  ]

  /// An FLB's `count` against the files of its users in the image.
  static func flbCounts(_ inv: PayloadInventory) -> [Problem] {
    var out: [Problem] = []
    for e in inv.flbs {
      guard let users = flbUsers[e.name], let count = e.count else { continue }
      let n = UInt64(inv.files.filter { users.contains($0.name) }.count)
      if n != count {
        out.append(
          Problem(
            .warning, kind: "inconsistent", path: e.path.parent(levels: 1) ?? e.path, address: e.address,
            message:
              "FLB \(e.name) counts \(count) user file\(count == 1 ? "" : "s") but the sessions hold \(n) \(users.sorted().joined(separator: "/")) file\(n == 1 ? "" : "s")"
          ))
      }
    }
    return out
  }

  /// VFIO devices against the PCI FLB; iommufd domains and IOMMU devices against the IOMMU FLB.
  static func devices(_ inv: PayloadInventory) -> [Problem] {
    var out: [Problem] = []
    let pci = inv.pciDevices.map { Set($0.map { UInt64($0.domain) << 16 | UInt64($0.bdf) }) }
    for e in inv.files {
      guard let v = e.payload?.state as? VFIOPCIPayload else { continue }
      let key = UInt64(v.domain) << 16 | UInt64(v.bdf)
      if pci?.contains(key) != true {
        out.append(
          Problem(
            .error, kind: "missing", path: e.path, address: e.address,
            message: pci == nil
              ? "VFIO device \(v.device.name) but no decodable PCI FLB: the PCI core does not know to keep it\(context(e))"
              : "VFIO device \(v.device.name) is not in the PCI FLB: the next kernel resets it under the VM\(context(e))"
          ))
      }
    }
    guard let (flb, mmu) = inv.iommu else {
      for e in inv.files where e.payload?.state is IOMMUFDPayload {
        out.append(
          Problem(
            .error, kind: "missing", path: e.path, address: e.address,
            message: "iommufd file without a decodable IOMMU FLB\(context(e))"))
      }
      return out
    }
    let live = Dictionary(mmu.domains.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
    for e in inv.files {
      guard let f = e.payload?.state as? IOMMUFDPayload else { continue }
      for (i, h) in f.hwpts.enumerated() where !h.domainData.isZero {
        let p = e.path.appending("hwpt_array").index(i)
        if let d = live[h.domainData] {
          if d.header.isDeleted {
            out.append(
              Problem(
                .error, kind: "inconsistent", path: p, address: h.domainData,
                message: "HWPT \(h.token) names a DELETED IOMMU domain\(context(e))"))
          }
        } else {
          out.append(
            Problem(
              .error, kind: "inconsistent", path: p, address: h.domainData,
              message: "HWPT \(h.token) domain_data \(h.domainData) is no domain object of the IOMMU FLB\(context(e))"))
        }
      }
    }
    if let pci {
      for (i, d) in mmu.devices.enumerated() where !d.header.isDeleted {
        if !pci.contains(UInt64(d.pciDomain) << 16 | UInt64(UInt16(truncatingIfNeeded: d.devid))) {
          out.append(
            Problem(
              .warning, kind: "missing", path: flb.path.appending("devices").index(i), address: d.address,
              message: "IOMMU-attached \(d.pci.name) is not in the PCI FLB: its DMA may be torn down by a reset"))
        }
      }
    }
    return out
  }

  /// Every reference of every payload is in the map (folios at their order).
  static func preservation(_ inv: PayloadInventory, _ set: PreservedSet) -> [Problem] {
    let g = set.geometry
    var out: [Problem] = []
    for e in inv.all {
      guard let p = e.payload else { continue }
      for r in p.references {
        // The LUO checks already report a file's or FLB's own data page.
        if e.host != .subnode, r.kind == .metadata, r.address == e.address, r.pages == 1 { continue }
        let pfn = r.address.pfn(g)
        if r.kind == .folio, let order = r.order {
          if set.contains(r.address, order: order) { continue }
          if covered(set, pfn, r.pages) {
            out.append(
              Problem(
                .warning, kind: "inconsistent", path: r.path, address: r.address,
                message:
                  "\(r.what) is preserved, but not as an order-\(order) folio; the next kernel restores it at the order in the map\(context(e))"
              ))
          } else {
            out.append(
              Problem(
                .error, kind: "notPreserved", path: r.path, address: r.address,
                message:
                  "\(r.what) (order \(order)) is not in the preserved-memory map: the next kernel cannot restore it\(context(e))"
              ))
          }
        } else if !covered(set, pfn, r.pages) {
          out.append(
            Problem(
              .error, kind: "notPreserved", path: r.path, address: r.address,
              message: "\(r.what) is not in the preserved-memory map: the next kernel may reuse its page\(context(e))"))
        }
      }
    }
    return out
  }

  /// Whether pages `[pfn, pfn + count)` are all covered by preserved entries.
  static func covered(_ set: PreservedSet, _ pfn: UInt64, _ count: UInt64) -> Bool {
    var at = pfn
    let (end, o) = pfn.addingReportingOverflow(count)
    guard !o else { return false }
    while at < end {
      guard let e = set.covering(pfn: at) else { return false }
      at = e.pfn(set.geometry) &+ e.pageCount
    }
    return true
  }

  static func context(_ e: PayloadInventory.Entry) -> String {
    guard let s = e.sessionName, let t = e.token else { return "" }
    return " (session '\(s)', token 0x\(String(t, radix: 16)))"
  }

  /// Token links within a session, and unique vCPU ids per VM.
  static func tokens(_ inv: PayloadInventory) -> [Problem] {
    var out: [Problem] = []
    var vcpuIDs: [String: [UInt32: DecodePath]] = [:]
    for e in inv.files {
      guard let p = e.payload, let session = e.session else { continue }
      func link(_ token: UInt64, _ compatible: String, _ field: String, _ what: String) {
        let target = inv.file(session: session, token: token)
        if target?.name != compatible {
          let why = target.map { "names a \($0.name) file" } ?? "names no file"
          out.append(
            Problem(
              .error, kind: "missing", path: e.path.appending(field), address: p.address,
              message:
                "\(what) \(field) 0x\(String(token, radix: 16)) \(why) of session '\(e.sessionName ?? "")'; the next kernel fails its retrieve\(context(e))"
            ))
        }
      }
      if let gm = p.state as? GuestMemfdPayload {
        link(gm.vmToken, KVMVM.compatible, "vm_token", "guest_memfd")
      } else if let v = p.state as? KVMVCPUPayload {
        link(v.vmToken, KVMVM.compatible, "vm_token", "vCPU")
        let key = "\(session)/\(v.vmToken)"
        if let first = vcpuIDs[key]?[v.vcpuId] {
          out.append(
            Problem(
              .error, kind: "duplicate", path: e.path.appending("vcpu_id"), address: p.address,
              message: "vCPU id \(v.vcpuId) of VM token 0x\(String(v.vmToken, radix: 16)) is also used by \(first)"))
        } else {
          vcpuIDs[key, default: [:]][v.vcpuId] = e.path
        }
      } else if let t = p.state as? TmpfsFilePayload {
        link(t.mntToken, TmpfsMount.compatible, "mnt_token", "tmpfs file")
      }
    }
    return out
  }

  /// huge-memfd folio orders against the `hugetlb-v1` FLB's hstates.
  static func hugetlb(_ inv: PayloadInventory) -> [Problem] {
    let memfds = inv.files.compactMap { e in (e.payload?.state as? HugeMemfdPayload).map { (e, $0) } }
    guard !memfds.isEmpty else { return [] }
    guard let flbEntry = inv.flbs.first(where: { $0.name == HugeTLBFLB.name }),
      let flb = flbEntry.payload?.state as? HugeTLBPayload
    else {
      return memfds.map { e, _ in
        Problem(
          .error, kind: "missing", path: e.path, address: e.address,
          message:
            "huge-memfd file without a decodable hugetlb-v1 FLB: the next kernel has no huge page pool to restore it into\(context(e))"
        )
      }
    }
    var out: [Problem] = []
    var folios: [UInt8: UInt64] = [:]
    for (e, m) in memfds {
      folios[m.order, default: 0] += UInt64(m.folios.filter { !$0.isEmpty }.count)
      if !flb.hstates.contains(where: { $0.order == m.order }) {
        out.append(
          Problem(
            .error, kind: "inconsistent", path: e.path.appending("order"), address: e.address,
            message:
              "huge-memfd order \(m.order) matches no hstate of the hugetlb-v1 FLB (orders \(flb.hstates.map(\.order)))\(context(e))"
          ))
      }
    }
    for (i, h) in flb.hstates.enumerated() {
      let used = folios[h.order] ?? 0
      if used > h.nrPages {
        out.append(
          Problem(
            .error, kind: "inconsistent", path: flbEntry.path.appending("hstates", index: i), address: flbEntry.address,
            message:
              "hstate of order \(h.order) preserves \(h.nrPages) huge pages but huge-memfd files hold \(used) folios of that order"
          ))
      }
    }
    return out
  }

  /// Poisoned pages handed to the next kernel.
  static func hwpoison(_ inv: PayloadInventory, _ set: PreservedSet) -> [Problem] {
    var out: [Problem] = []
    for e in inv.subnodes {
      guard let h = e.payload?.state as? HWPoisonPayload else { continue }
      for (i, pfn) in h.pfns.enumerated() where set.contains(pfn: pfn) {
        out.append(
          Problem(
            .error, kind: "poisonedPreserved", path: e.path.appending("pfns").index(i),
            address: PhysAddr.ofPage(pfn, set.geometry),
            message:
              "poisoned PFN 0x\(String(pfn, radix: 16)) is a preserved page: the next kernel would hand it back to its owner"
          ))
        if out.count >= 100 { break }
      }
    }
    return out
  }

  /// MSHV deposited pages: preserved, and not used by any other payload.
  static func mshv(_ inv: PayloadInventory, _ preserved: PreservedSet?) -> [Problem] {
    var out: [Problem] = []
    for e in inv.subnodes {
      guard let m = e.payload?.state as? MSHVPayload else { continue }
      let g = m.deposited.geometry
      if let set = preserved {
        for d in m.deposited where !covered(set, d.pfn(g), d.pageCount) {
          out.append(
            Problem(
              .error, kind: "notPreserved", path: e.path.appending("root_table"), address: d.phys,
              message: "deposited page(s) \(d) are not in the preserved-memory map; the hypervisor still owns them"))
          if out.count >= 100 { return out }
        }
      }
      for other in inv.all where other.path != e.path {
        for r in other.payload?.references ?? [] {
          let first = r.address.pfn(g)
          let (last, wrapped) = first.addingReportingOverflow(r.pages)
          guard !wrapped else { continue }
          for o in m.deposited.orders {
            if let hit = m.deposited.firstEntry(order: o, overlapping: first..<last) {
              out.append(
                Problem(
                  .warning, kind: "overlap", path: r.path, address: r.address,
                  message: "\(r.what) overlaps MSHV deposited page(s) \(hit): the hypervisor owns that memory"))
              break
            }
          }
        }
      }
    }
    return out
  }
}

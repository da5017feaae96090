// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The IOMMU FLB codec.
public enum IOMMUFLB: PayloadCodec {
  static var names: [(String, PayloadHost)] {
    [("iommu-v1", .flb), ("iommu-liveupdate-v1", .flb), ("iommu-liveupdate", .flb)]
  }
  /// The longest array chain read.
  static let maxArrayPages = 4096
  /// `IOMMU_LIVEUPDATE` versions of the unsuffixed string.
  static let versions: ClosedRange<UInt64> = 1...1

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError) -> DecodedPayload {
    let candidates = IOMMULayout.candidates(c.compatible)
    var results: [(IOMMULayout.ID, DecodeOutcome<(IOMMUPayload, [PayloadReference])>)] = []
    for id in candidates {
      guard let layout = IOMMULayout.all[id] else { continue }
      results.append(
        (id, DecodeOutcome.collect { (p: inout DecodeProblems) throws(DecodeError) in try read(c, layout, &p) }))
    }
    let clean = results.filter { $0.1.isClean }
    let chosen: (IOMMULayout.ID, DecodeOutcome<(IOMMUPayload, [PayloadReference])>)
    var reason: String?
    if clean.count == 1 || (clean.count > 1 && clean.allSatisfy({ sameContent($0.1.value?.0, clean[0].1.value?.0) })) {
      chosen = clean[0]
      if candidates.count > 1 {
        reason =
          clean.count == 1
          ? "the only layout whose arrays, flags and links are consistent" : "the arrays are empty: the layouts agree"
      }
    } else if clean.count > 1 {
      throw DecodeError(
        .inconsistent, "\(c.compatible) reads consistently as \(clean.map(\.0.rawValue)); not guessing", path: c.path,
        address: c.address)
    } else if results.count == 1 {
      chosen = results[0]
    } else {
      // No layout reads clean: keep the one with the fewest problems, say so.
      guard
        let best = results.min(by: {
          $0.1.problems.count + ($0.1.value == nil ? 1000 : 0) < $1.1.problems.count + ($1.1.value == nil ? 1000 : 0)
        })
      else {
        throw DecodeError(.inconsistent, "no IOMMU layout for \(c.compatible)", path: c.path, address: c.address)
      }
      chosen = best
      reason = "no layout reads clean; \(best.0.rawValue) has the fewest problems"
    }
    try problems.report(contentsOf: chosen.1.problems)
    guard let (state, refs) = chosen.1.value else {
      throw DecodeError(
        .inconsistent, "the IOMMU FLB could not be read as \(chosen.0.rawValue)", path: c.path, address: c.address)
    }
    return DecodedPayload(
      compatible: c.compatible, format: "\(c.compatible) \(chosen.0.rawValue)", layoutReason: reason,
      address: c.address,
      state: state, references: refs)
  }

  static func sameContent(_ a: IOMMUPayload?, _ b: IOMMUPayload?) -> Bool {
    a?.hardware.isEmpty == true && a?.domains.isEmpty == true && a?.devices.isEmpty == true
      && b?.hardware.isEmpty == true && b?.domains.isEmpty == true && b?.devices.isEmpty == true
  }

  /// Reads the FLB as `layout`.
  static func read(_ c: PayloadContext, _ L: IOMMULayout, _ problems: inout DecodeProblems) throws(DecodeError)
    -> (IOMMUPayload, [PayloadReference])
  {
    let g = c.geometry
    let top = try c.memory.reader(at: c.address, count: L.topSize, path: c.path)
    var refs = [PayloadReference(.metadata, c.address, path: c.path, what: "iommu FLB")]
    var s = IOMMUPayload(layout: L.id)
    var heads: [PhysAddr] = []
    if L.id == .i1 {
      heads = [PhysAddr(try top.integer(at: 0)), PhysAddr(try top.integer(at: 16)), PhysAddr(try top.integer(at: 32))]
    } else {
      let base = L.topSize == 32 ? 8 : 0
      if base == 8 {
        let v: UInt64 = try top.integer(at: 0)
        s.version = v
        if !versions.contains(v) {
          throw top.error(.unknownVersion, "iommu-liveupdate version \(v); this toolkit knows \(versions)", at: 0)
        }
      }
      heads = [
        PhysAddr(try top.integer(at: base)), PhysAddr(try top.integer(at: base + 8)),
        PhysAddr(try top.integer(at: base + 16)),
      ]
    }
    func header(_ r: ByteReader, _ o: Int) throws(DecodeError) -> IOMMUObjectHeader {
      let flags: UInt32 =
        L.flagsWidth == 1 ? UInt32(try r.integer(at: o + L.flags, as: UInt8.self)) : try r.integer(at: o + L.flags)
      if flags & ~(IOMMUObjectHeader.deletedFlag | IOMMUObjectHeader.incomingFlag) != 0 {
        try problems.report(
          r.error(.unsupported, "object flags 0x\(String(flags, radix: 16)) has unknown bits", at: o + L.flags))
      }
      return IOMMUObjectHeader(refCount: try r.integer(at: o + L.refCount), flags: flags)
    }
    let names = ["iommus", "domains", "devices"]
    let sizes = [L.hwSize, L.domainSize, L.deviceSize]
    var objects: [[(PhysAddr, ByteReader, Int)]] = [[], [], []]
    for k in 0..<3 {
      objects[k] = try array(c, heads[k], size: sizes[k], path: c.path.appending(names[k]), &problems, &refs)
    }
    for (a, r, o) in objects[0] {
      var h = IOMMUHardware(
        header: try header(r, o), token: try r.integer(at: o + L.token),
        type: L.id == .i1 ? UInt64(try r.integer(at: o + L.type, as: UInt32.self)) : try r.integer(at: o + L.type))
      h.address = a
      if h.type > 2 {
        try problems.report(
          r.error(.outOfRange, "IOMMU type \(h.type) is not INVALID, INTEL or ARM_SMMUV3", at: o + L.type))
      }
      if h.type == 1, let p = L.intelPhys, let rt = L.intelRootTable {
        h.registerBase = try r.integer(at: o + p)
        h.rootTable = try r.integer(at: o + rt)
        if h.rootTable != 0 && !h.header.isDeleted {
          refs.append(
            PayloadReference(
              .metadata, PhysAddr(h.rootTable), path: c.path.appending("iommus").index(s.hardware.count),
              what: "Intel IOMMU root table"))
        }
      }
      s.hardware.append(h)
    }
    for (i, (a, r, o)) in objects[1].enumerated() {
      var d = IOMMUDomain(
        header: try header(r, o), topTable: PhysAddr(try r.integer(at: o + L.topTable)),
        topLevel: try r.integer(at: o + L.topLevel),
        vasz: try L.vasz.map { (v: Int) throws(DecodeError) -> UInt32 in try r.integer(at: o + v) })
      d.address = a
      let p = c.path.appending("domains").index(i)
      if let v = d.vasz, v > 64 {
        try problems.report(DecodeError(.outOfRange, "vasz \(v) is more than 64 bits", path: p, address: a))
      }
      if !d.header.isDeleted && !d.topTable.isZero {
        if !(1...5).contains(d.levels) {
          try problems.report(
            DecodeError(
              .outOfRange, "top_level \(d.topLevel) gives \(d.levels) levels; page tables have 1 to 5", path: p,
              address: a))
        } else {
          let t = try IOMMUPageTable.walk(
            c.memory, top: d.topTable, levels: d.levels, path: p.appending("page_table"), problems: &problems)
          for (j, tp) in t.tables.enumerated() {
            refs.append(
              PayloadReference(.metadata, tp, path: p.appending("page_table", index: j), what: "IOMMU page-table page"))
          }
          for m in t.mappings {
            refs.append(
              PayloadReference(
                .metadata, m.phys, pages: m.size >> UInt64(g.pageShift),
                path: p.appending("iova 0x\(String(m.iova, radix: 16))"),
                what: "DMA target of IOVA 0x\(String(m.iova, radix: 16))"))
          }
          d.pageTable = t
        }
      }
      s.domains.append(d)
    }
    let domainAt = Dictionary(s.domains.map { ($0.address, $0) }, uniquingKeysWith: { x, _ in x })
    let hwAt = Dictionary(s.hardware.map { ($0.address, $0) }, uniquingKeysWith: { x, _ in x })
    for (i, (a, r, o)) in objects[2].enumerated() {
      var d = IOMMUDevice(
        header: try header(r, o), devid: try r.integer(at: o + L.devid), pciDomain: try r.integer(at: o + L.pciDomain),
        domainPhys: PhysAddr(try r.integer(at: o + L.domainPhys)),
        iommuPhys: PhysAddr(try r.integer(at: o + L.iommuPhys)))
      d.address = a
      if let x = L.attachmentID { d.attachmentID = try r.integer(at: o + x) }
      if let x = L.pasidTable { d.pasidTable = try r.integer(at: o + x) }
      if let x = L.maxPasid { d.maxPasid = try r.integer(at: o + x) }
      if let x = L.dmaOwnerToken { d.dmaOwnerToken = try r.integer(at: o + x) }
      let p = c.path.appending("devices").index(i)
      if !d.header.isDeleted {
        if !d.domainPhys.isZero {
          if let dom = domainAt[d.domainPhys] {
            if dom.header.isDeleted {
              try problems.report(
                DecodeError(
                  .inconsistent, "\(d.pci.name) is attached to a DELETED domain \(d.domainPhys)", path: p, address: a))
            }
          } else {
            try problems.report(
              DecodeError(
                .inconsistent, "domain_phys \(d.domainPhys) is no domain object of the FLB", path: p, address: a))
          }
        }
        if !d.iommuPhys.isZero {
          if let hw = hwAt[d.iommuPhys] {
            if hw.header.isDeleted {
              try problems.report(
                DecodeError(.inconsistent, "\(d.pci.name) names a DELETED IOMMU \(d.iommuPhys)", path: p, address: a))
            }
          } else {
            try problems.report(
              DecodeError(.inconsistent, "iommu_phys \(d.iommuPhys) is no IOMMU object of the FLB", path: p, address: a)
            )
          }
        }
      }
      s.devices.append(d)
    }
    return (s, refs)
  }

  /// Reads a page-chained array: `(object address, page reader, offset)` per object.
  static func array(
    _ c: PayloadContext, _ head: PhysAddr, size: Int, path: DecodePath, _ problems: inout DecodeProblems,
    _ refs: inout [PayloadReference]
  ) throws(DecodeError) -> [(PhysAddr, ByteReader, Int)] {
    let g = c.geometry
    let capacity = (g.pageSize - 16) / size
    var out: [(PhysAddr, ByteReader, Int)] = []
    var seen = Set<UInt64>()
    var page = head
    var n = 0
    while !page.isZero {
      let pp = path.appending("array", index: n)
      guard page.isPageAligned(g) else {
        try problems.report(DecodeError(.misaligned, "array page \(page) is not page aligned", path: pp, address: page))
        break
      }
      guard seen.insert(page.rawValue).inserted else {
        try problems.report(DecodeError(.cycle, "array page \(page) is reached twice", path: pp, address: page))
        break
      }
      guard n < maxArrayPages else {
        try problems.report(
          DecodeError(.limitExceeded, "more than \(maxArrayPages) array pages", path: pp, address: page))
        break
      }
      refs.append(PayloadReference(.metadata, page, path: pp, what: "IOMMU object array page"))
      let r = try c.memory.page(at: page, path: pp)
      let next: UInt64 = try r.integer(at: 0)
      var count: UInt64 = try r.integer(at: 8)
      if count > UInt64(capacity) {
        try problems.report(
          DecodeError(
            .badCount, "nr_objects \(count) is more than the \(capacity) \(size)-byte objects a page holds", path: pp,
            address: page.advanced(by: 8)))
        count = UInt64(capacity)
      }
      for i in 0..<Int(count) {
        let off = 16 + i * size
        out.append((page.advanced(by: UInt64(off)) ?? page, r, off))
      }
      page = PhysAddr(next)
      n += 1
    }
    return out
  }
}

import KHOCore

/// The object header every IOMMU FLB object starts with.
public struct IOMMUObjectHeader: Hashable, Sendable {
  public static let deletedFlag: UInt32 = 0x1
  public static let incomingFlag: UInt32 = 0x2
  public var refCount: UInt32
  public var flags: UInt32
  public var isDeleted: Bool { flags & Self.deletedFlag != 0 }
  public var isIncoming: Bool { flags & Self.incomingFlag != 0 }
  public init(refCount: UInt32, flags: UInt32 = 0) {
    self.refCount = refCount
    self.flags = flags
  }
  var fields: [(String, PayloadValue)] {
    [("ref_count", .int(UInt64(refCount))), ("flags", .hex(UInt64(flags))), ("deleted", .bool(isDeleted)), ("incoming", .bool(isIncoming))]
  }
}

/// An IOMMU hardware unit of the FLB.
public struct IOMMUHardware: Hashable, Sendable {
  public var address: PhysAddr = .zero
  public var header: IOMMUObjectHeader
  public var token: UInt64
  /// 0 INVALID, 1 INTEL, 2 ARM_SMMUV3 (I5).
  public var type: UInt64
  /// Intel: the register base and root table (I1, I3, I5).
  public var registerBase: UInt64 = 0
  public var rootTable: UInt64 = 0
  public init(header: IOMMUObjectHeader, token: UInt64, type: UInt64) {
    self.header = header
    self.token = token
    self.type = type
  }
}

/// An IOMMU domain of the FLB: an I/O address space and its page table.
public struct IOMMUDomain: Hashable, Sendable {
  public var address: PhysAddr = .zero
  public var header: IOMMUObjectHeader
  public var topTable: PhysAddr
  public var topLevel: UInt64
  /// Bits of IOVA space (I2–I5).
  public var vasz: UInt32?
  /// The walk of its page table (not encoded).
  public var pageTable: IOMMUPageTable?
  public init(header: IOMMUObjectHeader, topTable: PhysAddr, topLevel: UInt64, vasz: UInt32? = nil) {
    self.header = header
    self.topTable = topTable
    self.topLevel = topLevel
    self.vasz = vasz
  }

  /// Levels of the table: `top_level` counts from 0 at the leaf table, unless
  /// `vasz` says it counts from 1 **[unsure]**.
  public var levels: Int {
    guard topLevel < 8 else { return Int.max }
    if let vasz, UInt64(vasz) == 12 + 9 * topLevel { return Int(topLevel) }
    return Int(topLevel) + 1
  }
}

/// A device attached through the IOMMU.
public struct IOMMUDevice: Hashable, Sendable {
  public var address: PhysAddr = .zero
  public var header: IOMMUObjectHeader
  /// The PCI requester id (`bus << 8 | devfn`).
  public var devid: UInt32
  public var pciDomain: UInt32
  public var attachmentID: UInt64 = 0
  public var domainPhys: PhysAddr
  public var iommuPhys: PhysAddr
  public var pasidTable: UInt64 = 0
  public var maxPasid: UInt64 = 0
  public var dmaOwnerToken: UInt64 = 0
  public init(header: IOMMUObjectHeader, devid: UInt32, pciDomain: UInt32, domainPhys: PhysAddr, iommuPhys: PhysAddr) {
    self.header = header
    self.devid = devid
    self.pciDomain = pciDomain
    self.domainPhys = domainPhys
    self.iommuPhys = iommuPhys
  }
  public var pci: PCIDevice { PCIDevice(domain: pciDomain, bdf: UInt16(truncatingIfNeeded: devid)) }
}

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

  public init(layout: IOMMULayout.ID, version: UInt64? = nil, hardware: [IOMMUHardware] = [], domains: [IOMMUDomain] = [], devices: [IOMMUDevice] = []) {
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
    out.append((
      "iommus",
      .array(hardware.map { h in
        .object(
          [("phys", .hex(h.address.rawValue))] + h.header.fields + [
            ("token", .hex(h.token)), ("type", .int(h.type)), ("phys_addr", .hex(h.registerBase)), ("root_table", .hex(h.rootTable)),
          ])
      })))
    out.append((
      "domains",
      .array(domains.map { d in
        var f: [(String, PayloadValue)] = [("phys", .hex(d.address.rawValue))] + d.header.fields + [
          ("top_table_phys", .hex(d.topTable.rawValue)), ("top_level", .int(d.topLevel)),
        ]
        if let v = d.vasz { f.append(("vasz", .int(UInt64(v)))) }
        if let t = d.pageTable {
          f.append(("table_pages", .int(UInt64(t.tables.count))))
          f.append(("mapped_ranges", .int(UInt64(t.mappings.count + t.omittedMappings))))
          f.append(("mapped_bytes", .int(t.mappedBytes)))
        }
        return .object(f)
      })))
    out.append((
      "devices",
      .array(devices.map { d in
        .object(
          [("phys", .hex(d.address.rawValue))] + d.header.fields + [
            ("devid", .hex(UInt64(d.devid))), ("pci_domain_nr", .int(UInt64(d.pciDomain))), ("name", .string(d.pci.name)),
            ("attachment_id", .int(d.attachmentID)), ("domain_phys", .hex(d.domainPhys.rawValue)),
            ("iommu_phys", .hex(d.iommuPhys.rawValue)), ("pasid_table", .hex(d.pasidTable)), ("max_pasid", .int(d.maxPasid)),
            ("dma_owner_token", .hex(d.dmaOwnerToken)),
          ])
      })))
    return .object(out)
  }

  public func summary(_ g: PageGeometry) -> String {
    let live = devices.filter { !$0.header.isDeleted }
    let mapped = domains.compactMap { $0.pageTable?.mappedBytes }.reduce(0, +)
    return "\(hardware.count) IOMMU\(hardware.count == 1 ? "" : "s"), \(domains.count) domain\(domains.count == 1 ? "" : "s") (\(_units(mapped)) mapped), \(live.count) device\(live.count == 1 ? "" : "s")"
  }
}

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
      results.append((id, DecodeOutcome.collect { (p: inout DecodeProblems) throws(DecodeError) in try read(c, layout, &p) }))
    }
    let clean = results.filter { $0.1.isClean }
    let chosen: (IOMMULayout.ID, DecodeOutcome<(IOMMUPayload, [PayloadReference])>)
    var reason: String?
    if clean.count == 1 || (clean.count > 1 && clean.allSatisfy({ sameContent($0.1.value?.0, clean[0].1.value?.0) })) {
      chosen = clean[0]
      if candidates.count > 1 { reason = clean.count == 1 ? "the only layout whose arrays, flags and links are consistent" : "the arrays are empty: the layouts agree" }
    } else if clean.count > 1 {
      throw DecodeError(
        .inconsistent, "\(c.compatible) reads consistently as \(clean.map(\.0.rawValue)); not guessing", path: c.path, address: c.address)
    } else if results.count == 1 {
      chosen = results[0]
    } else {
      // No layout reads clean: keep the one with the fewest problems, say so.
      guard let best = results.min(by: { $0.1.problems.count + ($0.1.value == nil ? 1000 : 0) < $1.1.problems.count + ($1.1.value == nil ? 1000 : 0) }) else {
        throw DecodeError(.inconsistent, "no IOMMU layout for \(c.compatible)", path: c.path, address: c.address)
      }
      chosen = best
      reason = "no layout reads clean; \(best.0.rawValue) has the fewest problems"
    }
    try problems.report(contentsOf: chosen.1.problems)
    guard let (state, refs) = chosen.1.value else {
      throw DecodeError(.inconsistent, "the IOMMU FLB could not be read as \(chosen.0.rawValue)", path: c.path, address: c.address)
    }
    return DecodedPayload(
      compatible: c.compatible, format: "\(c.compatible) \(chosen.0.rawValue)", layoutReason: reason, address: c.address,
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
      heads = [PhysAddr(try top.integer(at: base)), PhysAddr(try top.integer(at: base + 8)), PhysAddr(try top.integer(at: base + 16))]
    }
    func header(_ r: ByteReader, _ o: Int) throws(DecodeError) -> IOMMUObjectHeader {
      let flags: UInt32 = L.flagsWidth == 1 ? UInt32(try r.integer(at: o + L.flags, as: UInt8.self)) : try r.integer(at: o + L.flags)
      if flags & ~(IOMMUObjectHeader.deletedFlag | IOMMUObjectHeader.incomingFlag) != 0 {
        try problems.report(r.error(.unsupported, "object flags 0x\(String(flags, radix: 16)) has unknown bits", at: o + L.flags))
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
      var h = IOMMUHardware(header: try header(r, o), token: try r.integer(at: o + L.token), type: L.id == .i1 ? UInt64(try r.integer(at: o + L.type, as: UInt32.self)) : try r.integer(at: o + L.type))
      h.address = a
      if h.type > 2 {
        try problems.report(r.error(.outOfRange, "IOMMU type \(h.type) is not INVALID, INTEL or ARM_SMMUV3", at: o + L.type))
      }
      if h.type == 1, let p = L.intelPhys, let rt = L.intelRootTable {
        h.registerBase = try r.integer(at: o + p)
        h.rootTable = try r.integer(at: o + rt)
        if h.rootTable != 0 && !h.header.isDeleted {
          refs.append(
            PayloadReference(.metadata, PhysAddr(h.rootTable), path: c.path.appending("iommus").index(s.hardware.count), what: "Intel IOMMU root table"))
        }
      }
      s.hardware.append(h)
    }
    for (i, (a, r, o)) in objects[1].enumerated() {
      var d = IOMMUDomain(
        header: try header(r, o), topTable: PhysAddr(try r.integer(at: o + L.topTable)), topLevel: try r.integer(at: o + L.topLevel),
        vasz: try L.vasz.map { (v: Int) throws(DecodeError) -> UInt32 in try r.integer(at: o + v) })
      d.address = a
      let p = c.path.appending("domains").index(i)
      if let v = d.vasz, v > 64 {
        try problems.report(DecodeError(.outOfRange, "vasz \(v) is more than 64 bits", path: p, address: a))
      }
      if !d.header.isDeleted && !d.topTable.isZero {
        if !(1...5).contains(d.levels) {
          try problems.report(DecodeError(.outOfRange, "top_level \(d.topLevel) gives \(d.levels) levels; page tables have 1 to 5", path: p, address: a))
        } else {
          let t = try IOMMUPageTable.walk(c.memory, top: d.topTable, levels: d.levels, path: p.appending("page_table"), problems: &problems)
          for (j, tp) in t.tables.enumerated() {
            refs.append(PayloadReference(.metadata, tp, path: p.appending("page_table", index: j), what: "IOMMU page-table page"))
          }
          for m in t.mappings {
            refs.append(
              PayloadReference(
                .metadata, m.phys, pages: m.size >> UInt64(g.pageShift), path: p.appending("iova 0x\(String(m.iova, radix: 16))"),
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
        domainPhys: PhysAddr(try r.integer(at: o + L.domainPhys)), iommuPhys: PhysAddr(try r.integer(at: o + L.iommuPhys)))
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
              try problems.report(DecodeError(.inconsistent, "\(d.pci.name) is attached to a DELETED domain \(d.domainPhys)", path: p, address: a))
            }
          } else {
            try problems.report(DecodeError(.inconsistent, "domain_phys \(d.domainPhys) is no domain object of the FLB", path: p, address: a))
          }
        }
        if !d.iommuPhys.isZero {
          if let hw = hwAt[d.iommuPhys] {
            if hw.header.isDeleted {
              try problems.report(DecodeError(.inconsistent, "\(d.pci.name) names a DELETED IOMMU \(d.iommuPhys)", path: p, address: a))
            }
          } else {
            try problems.report(DecodeError(.inconsistent, "iommu_phys \(d.iommuPhys) is no IOMMU object of the FLB", path: p, address: a))
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
        try problems.report(DecodeError(.limitExceeded, "more than \(maxArrayPages) array pages", path: pp, address: page))
        break
      }
      refs.append(PayloadReference(.metadata, page, path: pp, what: "IOMMU object array page"))
      let r = try c.memory.page(at: page, path: pp)
      let next: UInt64 = try r.integer(at: 0)
      var count: UInt64 = try r.integer(at: 8)
      if count > UInt64(capacity) {
        try problems.report(
          DecodeError(.badCount, "nr_objects \(count) is more than the \(capacity) \(size)-byte objects a page holds", path: pp, address: page.advanced(by: 8)))
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

  /// Writes the FLB in `state.layout`: the top struct and one array page per
  /// object kind (chained when full). Domain page tables are the caller's
  /// (``IOMMUPageTable/build(_:levels:into:)``). Objects' `address` fields are ignored;
  /// devices name their domain and IOMMU by index through `domainIndex`/`iommuIndex`.
  public static func encode(
    _ state: IOMMUPayload, domainIndex: [Int?], iommuIndex: [Int?], into w: inout PayloadWriter, path: DecodePath = .root
  ) throws(EncodeError) -> PhysAddr {
    guard let L = IOMMULayout.all[state.layout] else { throw EncodeError(.outOfRange, "no layout", path: path) }
    let order = w.order
    let g = w.image.geometry
    func header(_ b: inout [UInt8], _ o: Int, _ h: IOMMUObjectHeader) {
      put(&b, o + L.refCount, h.refCount)
      if L.flagsWidth == 1 { b[o + L.flags] = UInt8(truncatingIfNeeded: h.flags) } else { put(&b, o + L.flags, h.flags) }
    }
    func put<T: FixedWidthInteger>(_ b: inout [UInt8], _ o: Int, _ v: T) {
      let x = order == .little ? v.littleEndian : v.bigEndian
      withUnsafeBytes(of: x) { for (i, byte) in $0.enumerated() { b[o + i] = byte } }
    }
    // Place arrays: hardware and domains first so devices can point at them.
    func writeArray(_ objects: [[UInt8]], size: Int) throws(EncodeError) -> (head: PhysAddr, addresses: [PhysAddr]) {
      let capacity = (g.pageSize - 16) / size
      var pages: [PhysAddr] = []
      var addrs: [PhysAddr] = []
      let chunks = stride(from: 0, to: objects.count, by: capacity).map { Array(objects[$0..<Swift.min($0 + capacity, objects.count)]) }
      for _ in chunks { pages.append(try w.place(_PayloadWriter(order))) }
      for (k, chunk) in chunks.enumerated() {
        var b = [UInt8](repeating: 0, count: 16 + chunk.count * size)
        put(&b, 0, k + 1 < pages.count ? pages[k + 1].rawValue : 0)
        put(&b, 8, UInt64(chunk.count))
        for (i, o) in chunk.enumerated() {
          b.replaceSubrange(16 + i * size..<16 + (i + 1) * size, with: o)
          addrs.append(PhysAddr(pages[k].rawValue + UInt64(16 + i * size)))
        }
        w.image.write(b, at: pages[k])
      }
      return (pages.first ?? .zero, addrs)
    }
    let hw = try writeArray(
      state.hardware.map { h in
        var b = [UInt8](repeating: 0, count: L.hwSize)
        header(&b, 0, h.header)
        put(&b, L.token, h.token)
        if L.id == .i1 { put(&b, L.type, UInt32(truncatingIfNeeded: h.type)) } else { put(&b, L.type, h.type) }
        if h.type == 1, let p = L.intelPhys, let rt = L.intelRootTable {
          put(&b, p, h.registerBase)
          put(&b, rt, h.rootTable)
        }
        return b
      }, size: L.hwSize)
    let doms = try writeArray(
      state.domains.map { d in
        var b = [UInt8](repeating: 0, count: L.domainSize)
        header(&b, 0, d.header)
        put(&b, L.topTable, d.topTable.rawValue)
        put(&b, L.topLevel, d.topLevel)
        if let v = L.vasz { put(&b, v, d.vasz ?? 0) }
        return b
      }, size: L.domainSize)
    let devs = try writeArray(
      state.devices.enumerated().map { i, d in
        var b = [UInt8](repeating: 0, count: L.deviceSize)
        header(&b, 0, d.header)
        put(&b, L.devid, d.devid)
        put(&b, L.pciDomain, d.pciDomain)
        if let x = L.attachmentID { put(&b, x, d.attachmentID) }
        let dom = i < domainIndex.count ? domainIndex[i].flatMap { $0 < doms.addresses.count ? doms.addresses[$0] : nil } : nil
        let mmu = i < iommuIndex.count ? iommuIndex[i].flatMap { $0 < hw.addresses.count ? hw.addresses[$0] : nil } : nil
        put(&b, L.domainPhys, (dom ?? d.domainPhys).rawValue)
        put(&b, L.iommuPhys, (mmu ?? d.iommuPhys).rawValue)
        if let x = L.pasidTable { put(&b, x, d.pasidTable) }
        if let x = L.maxPasid { put(&b, x, d.maxPasid) }
        if let x = L.dmaOwnerToken { put(&b, x, d.dmaOwnerToken) }
        return b
      }, size: L.deviceSize)
    var top = _PayloadWriter(order)
    if L.id == .i1 {
      top.u64(hw.head.rawValue); top.u64(UInt64(state.hardware.count))
      top.u64(doms.head.rawValue); top.u64(UInt64(state.domains.count))
      top.u64(devs.head.rawValue); top.u64(UInt64(state.devices.count))
    } else {
      if L.topSize == 32 { top.u64(state.version ?? 1) }
      top.u64(hw.head.rawValue)
      top.u64(doms.head.rawValue)
      top.u64(devs.head.rawValue)
    }
    return try w.place(top)
  }
}

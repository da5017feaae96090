// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The PCI core's FLB: which devices the next kernel must not reset.
///
/// Seven layouts under three strings (payloads.md §2):
///
/// | layout | string | header | entries |
/// |---|---|---|---|
/// | P1 | `pci-v1` | u64 nr_devices | 4 B `{u16 domain; u16 bdf}` at 8, sorted |
/// | P2 | `pci-v1` | u64 max_nr_devices, u64 nr_devices | 8 B `{u32 domain; u16 bdf; u16 reserved}` at 16 |
/// | P3 | `pci-v1` | u32 max_nr_devices, u32 nr_devices | 8 B, reserved, at 8 |
/// | P4 | `pci-v2` | u32 max, u32 nr | 8 B with refcount at 8 (0 = free slot) |
/// | P5 | `pci-v2` | u64 max, u64 nr | 8 B with refcount at 16 |
/// | P6 | `pci-v2` | u32 nr_devices, u64 devices (12 B) | block-v1 chain of 8 B entries |
/// | P7 | `pci` | u32 version (1, 2), u32 nr_devices, u64 devices | block-v1 chain of 8 B entries |
public struct PCIPayload: PayloadState, Hashable {
  public enum Layout: String, Sendable, Hashable, CaseIterable {
    case p1 = "P1", p2 = "P2", p3 = "P3", p4 = "P4", p5 = "P5", p6 = "P6", p7 = "P7"

    /// Whether entries carry a refcount (0 = free slot).
    public var hasRefcount: Bool { self == .p4 || self == .p5 || self == .p6 || self == .p7 }
    /// Whether entries live in a block-v1 chain.
    public var isChained: Bool { self == .p6 || self == .p7 }
    /// The string the layout was written under.
    public var string: String {
      switch self {
      case .p1, .p2, .p3: "pci-v1"
      case .p4, .p5, .p6: "pci-v2"
      case .p7: "pci"
      }
    }
  }

  public var layout: Layout
  /// P7 `version` (1: refcount 0/1; 2: devices at or below).
  public var version: UInt32 = 0
  /// `max_nr_devices` (P2–P5): the slot count.
  public var maxNrDevices: UInt64 = 0
  /// `nr_devices` as declared.
  public var nrDevices: UInt64
  /// P6/P7: the chain's first block.
  public var devicesPhys: PhysAddr = .zero
  /// Every slot in order, free ones included.
  public var slots: [PCIDevice]

  public init(layout: Layout, nrDevices: UInt64, slots: [PCIDevice]) {
    self.layout = layout
    self.nrDevices = nrDevices
    self.slots = slots
  }

  /// The devices the next kernel treats as preserved: used slots.
  public var devices: [PCIDevice] { layout.hasRefcount ? slots.filter { $0.refcount != 0 } : slots }

  public var fields: PayloadValue {
    var out: [(String, PayloadValue)] = []
    if layout == .p7 { out.append(("version", .int(UInt64(version)))) }
    if [.p2, .p3, .p4, .p5].contains(layout) { out.append(("max_nr_devices", .int(maxNrDevices))) }
    out.append(("nr_devices", .int(nrDevices)))
    if layout.isChained { out.append(("devices_phys", .hex(devicesPhys.rawValue))) }
    out.append(("devices", .array(slots.map(\.fields))))
    return .object(out)
  }

  public func summary(_ g: PageGeometry) -> String {
    let used = devices
    return "\(used.count) device\(used.count == 1 ? "" : "s")"
      + (slots.count != used.count ? " in \(slots.count) slots" : "")
      + (used.isEmpty ? "" : ": " + used.prefix(4).map(\.name).joined(separator: ", ") + (used.count > 4 ? ", …" : ""))
  }
}

/// The PCI FLB codec (`pci-v1`, `pci-v2`, `pci`).
public enum PCIFLB: PayloadCodec {
  /// `PCI_LUO_FLB_VERSION` values of the `pci` string.
  public static let versions: ClosedRange<UInt32> = 1...2
  static var names: [(String, PayloadHost)] { [("pci-v1", .flb), ("pci-v2", .flb), ("pci", .flb)] }

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError) -> DecodedPayload {
    let g = c.geometry
    let limit = c.allocationBytes(at: c.address, fallbackPages: 1)
    let r = try c.memory.reader(at: c.address, count: Swift.min(limit, g.pageSize << 4), path: c.path)
    var refs = [
      PayloadReference(
        .metadata, c.address, pages: UInt64((limit + g.pageSize - 1) / g.pageSize), path: c.path, what: "pci_ser")
    ]
    let layout: PCIPayload.Layout
    var reason: String
    if c.compatible == "pci" {
      layout = .p7
      reason = "the string carries the layout"
    } else {
      let candidates = PCIPayload.Layout.allCases.filter { $0.string == c.compatible }
      let fits = candidates.filter { plausible($0, r, limit, c) }
      let empty = (try? r.integer(at: 0, as: UInt64.self)) == 0 && (try? r.integer(at: 8, as: UInt64.self)) == 0
      if fits.count > 1, empty, let l = fits.first {
        layout = l
        reason = "no devices: every candidate layout reads the zeroed struct as empty"
      } else if fits.count == 1, let l = fits.first {
        layout = l
        reason = "counts and slots fit only \(l.rawValue)"
      } else {
        let names = candidates.map(\.rawValue).joined(separator: ", ")
        throw DecodeError(
          .inconsistent,
          fits.isEmpty
            ? "\(c.compatible) data fits none of \(names)"
            : "\(c.compatible) data fits \(fits.map(\.rawValue)); not guessing",
          path: c.path, address: c.address)
      }
    }
    var s: PCIPayload
    switch layout {
    case .p1:
      let n = Int(try r.integer(at: 0, as: UInt64.self))
      var slots: [PCIDevice] = []
      for i in 0..<n {
        slots.append(
          PCIDevice(
            domain: UInt32(try r.integer(at: 8 + 4 * i, as: UInt16.self)), bdf: try r.integer(at: 10 + 4 * i),
            refcount: 0))
      }
      s = PCIPayload(layout: .p1, nrDevices: UInt64(n), slots: slots)
      if slots != slots.sorted() {
        try problems.report(r.error(.inconsistent, "P1 devices are not sorted by domain and bdf", at: 8))
      }
    case .p2, .p3, .p4, .p5:
      let wide = layout == .p2 || layout == .p5
      let maxN: UInt64 = wide ? try r.integer(at: 0) : UInt64(try r.integer(at: 0, as: UInt32.self))
      let nr: UInt64 = wide ? try r.integer(at: 8) : UInt64(try r.integer(at: 4, as: UInt32.self))
      let base = wide ? 16 : 8
      var slots: [PCIDevice] = []
      for i in 0..<Int(maxN) { slots.append(try entry(r, at: base + 8 * i)) }
      s = PCIPayload(layout: layout, nrDevices: nr, slots: layout.hasRefcount ? slots : Array(slots.prefix(Int(nr))))
      s.maxNrDevices = maxN
    case .p6, .p7:
      let nr: UInt64
      if layout == .p7 {
        let v = try r.integer(at: 0, as: UInt32.self)
        guard PCIFLB.versions.contains(v) else {
          throw r.error(
            .unknownVersion, "pci FLB version \(v); the next kernel refuses any but \(PCIFLB.versions)", at: 0)
        }
        nr = UInt64(try r.integer(at: 4, as: UInt32.self))
        s = PCIPayload(layout: .p7, nrDevices: nr, slots: [])
        s.version = v
        s.devicesPhys = PhysAddr(try r.integer(at: 8, as: UInt64.self))
      } else {
        nr = UInt64(try r.integer(at: 0, as: UInt32.self))
        s = PCIPayload(layout: .p6, nrDevices: nr, slots: [])
        s.devicesPhys = PhysAddr(try r.integer(at: 4, as: UInt64.self))
      }
      if !s.devicesPhys.isZero, let bl = BlockLayout(entrySize: 8, geometry: g) {
        let p = c.path.appending("devices")
        var v = _NoVisitor()
        let chain = try BlockList.walk(c.memory, s.devicesPhys, bl, p, &problems, &v)
        for (i, b) in chain.blocks.enumerated() {
          refs.append(
            PayloadReference(.metadata, b.address, path: p.appending("block", index: i), what: "PCI device block"))
        }
        let er = ByteReader(chain.entries, order: g.byteOrder, path: p)
        for i in 0..<chain.count { s.slots.append(try entry(er, at: 8 * i)) }
      } else if nr != 0 {
        try problems.report(r.error(.missing, "nr_devices is \(nr) but devices is 0", at: layout == .p7 ? 8 : 4))
      }
    }
    try check(s, c, &problems)
    return DecodedPayload(
      compatible: c.compatible, format: "\(c.compatible) \(layout.rawValue)", layoutReason: reason, address: c.address,
      state: s, references: refs)
  }

  static func entry(_ r: ByteReader, at off: Int) throws(DecodeError) -> PCIDevice {
    PCIDevice(domain: try r.integer(at: off), bdf: try r.integer(at: off + 4), refcount: try r.integer(at: off + 6))
  }

  /// Whether the header and slots read as `layout` (the reference's rule:
  /// the used slots in `[0, max)` number `nr_devices` and the slots fit
  /// the allocation; P6 names a block header).
  static func plausible(_ layout: PCIPayload.Layout, _ r: ByteReader, _ limit: Int, _ c: PayloadContext) -> Bool {
    func u32(_ o: Int) -> UInt32? { try? r.integer(at: o) }
    func u64(_ o: Int) -> UInt64? { try? r.integer(at: o) }
    switch layout {
    case .p1:
      guard let n = u64(0), n <= UInt64((limit - 8) / 4) else { return false }
      // Entries are u16 pairs; the bytes after them are zero.
      let end = 8 + 4 * Int(n)
      for o in stride(from: end, to: Swift.min(limit, end + 16), by: 4) where u32(o) != 0 { return false }
      return true
    case .p2, .p3, .p4, .p5:
      let wide = layout == .p2 || layout == .p5
      guard let maxN = wide ? u64(0) : u32(0).map(UInt64.init), let nr = wide ? u64(8) : u32(4).map(UInt64.init),
        nr <= maxN
      else { return false }
      let base = wide ? 16 : 8
      guard maxN <= UInt64((limit - base) / 8) else { return false }
      var used: UInt64 = 0
      for i in 0..<Int(maxN) {
        guard let e = try? entry(r, at: base + 8 * i) else { return false }
        if layout.hasRefcount {
          if e.refcount != 0 { used += 1 } else if e.domain != 0 || e.bdf != 0 { return false }
        } else {
          if e.refcount != 0 { return false }
          if i < Int(nr) { used += 1 } else if e.domain != 0 || e.bdf != 0 { return false }
        }
      }
      return used == nr
    case .p6:
      guard let pa = u64(4), pa != 0, pa & c.geometry.pageMask == 0,
        let bl = BlockLayout(entrySize: 8, geometry: c.geometry),
        let h = try? c.memory.reader(at: PhysAddr(pa), count: 16, path: c.path),
        let count = try? h.integer(at: 8, as: UInt64.self)
      else { return false }
      return count >= 1 && count <= UInt64(bl.entriesPerBlock)
    case .p7:
      return true
    }
  }

  /// Cross-checks within the FLB: unique (domain, bdf), free slots zero,
  /// `nr_devices` equal to the used slots.
  static func check(_ s: PCIPayload, _ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError) {
    var seen: [PCIDevice: Int] = [:]
    for (i, d) in s.slots.enumerated() {
      let p = c.path.appending("devices").index(i)
      if s.layout.hasRefcount, d.refcount == 0 {
        if d.domain != 0 || d.bdf != 0 {
          try problems.report(
            DecodeError(
              .inconsistent, "free slot (refcount 0) holds \(d.name); freed slots are zeroed", path: p,
              address: c.address))
        }
        continue
      }
      let key = PCIDevice(domain: d.domain, bdf: d.bdf, refcount: 0)
      if let first = seen[key] {
        try problems.report(
          DecodeError(
            .duplicate,
            "\(d.name) is also in devices[\(first)]; the next kernel's xa_insert fails and no device counts as preserved",
            path: p, address: c.address))
      } else {
        seen[key] = i
      }
      if s.layout == .p7 && s.version == 1 && d.refcount > 1 {
        try problems.report(
          DecodeError(.outOfRange, "version 1 refcount \(d.refcount) is not 0 or 1", path: p, address: c.address))
      }
    }
    let used = UInt64(s.devices.count)
    if used != s.nrDevices {
      try problems.report(
        DecodeError(
          .inconsistent, "nr_devices is \(s.nrDevices) but \(used) slots are in use", path: c.path, address: c.address))
    }
    if s.layout == .p7 && s.version == 2, let total = s.devices.map({ Int($0.refcount) }).max(), total > s.devices.count
    {
      try problems.report(
        DecodeError(
          .inconsistent, "a refcount of \(total) counts more preserved devices than the \(s.devices.count) listed",
          path: c.path.appending("devices"), address: c.address))
    }
  }

  /// Writes the FLB in `state.layout`; returns the address for the FLB's `data`.
  public static func encode(_ state: PCIPayload, into w: inout PayloadWriter, path: DecodePath = .root)
    throws(EncodeError) -> PhysAddr
  {
    var s = _PayloadWriter(w.order)
    func entry(_ e: inout _PayloadWriter, _ d: PCIDevice) {
      e.u32(d.domain)
      e.u16(d.bdf)
      e.u16(state.layout.hasRefcount ? d.refcount : 0)
    }
    switch state.layout {
    case .p1:
      s.u64(UInt64(state.slots.count))
      for d in state.slots {
        guard d.domain <= UInt32(UInt16.max) else {
          throw EncodeError(.notRepresentable, "P1 holds a 16-bit domain; \(d.name) does not fit", path: path)
        }
        s.u16(UInt16(d.domain))
        s.u16(d.bdf)
      }
    case .p2, .p3, .p4, .p5:
      let wide = state.layout == .p2 || state.layout == .p5
      guard state.maxNrDevices <= 1 << 20 else {
        throw EncodeError(
          .outOfRange, "max_nr_devices \(state.maxNrDevices) is more than the encoder writes (2^20)", path: path)
      }
      let maxN = UInt64(Swift.max(state.slots.count, Int(state.maxNrDevices)))
      let nr = UInt64(state.devices.count)
      if wide {
        s.u64(maxN); s.u64(nr)
      } else {
        s.u32(UInt32(truncatingIfNeeded: maxN)); s.u32(UInt32(truncatingIfNeeded: nr))
      }
      for d in state.slots { entry(&s, d) }
      s.zeros(8 * (Int(maxN) - state.slots.count))
    case .p6, .p7:
      var entries = _PayloadWriter(w.order)
      for d in state.slots { entry(&entries, d) }
      var head = PhysAddr.zero
      if !state.slots.isEmpty {
        guard let bl = BlockLayout(entrySize: 8, geometry: w.image.geometry) else {
          throw EncodeError(.library, "no block layout for 8-byte entries", path: path)
        }
        let before = w.allocator.allocated.count
        head = try BlockList.encode(entries.bytes, layout: bl, into: w.image, allocator: &w.allocator, path: path).head
        w.record(w.allocator.allocated[before...].map { PreservedEntry($0, order: 0) })
      }
      if state.layout == .p7 { s.u32(state.version) }
      s.u32(UInt32(state.devices.count))
      s.u64(head.rawValue)
    }
    return try w.place(s)
  }
}

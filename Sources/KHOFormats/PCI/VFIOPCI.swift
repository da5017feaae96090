// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A preserved VFIO PCI device (`vfio-pci-v1`, `vfio-pci-v2`): `struct
/// vfio_pci_core_device_ser` in a zeroed page.
///
/// | layout | string | bytes | fields |
/// |---|---|---|---|
/// | V1 | v1 | 2 | `u16 bdf` |
/// | V2 | v1 | 8226/8227 | `u16 bdf; u32 cfg_size; u8 pci_config_map[4096]; u8 vconfig[4096]; u32 rbar[7]; [u8 reset_works]` |
/// | V3 | v1 | 4 | `u16 bdf; u16 domain` |
/// | V4 | v1 | 5 | V3 + `u8 reset_works` |
/// | V5 | v1 | 9 | V4 + `u32 iommufd token` |
/// | V6 | v1 | 6 | `u32 domain; u16 bdf` |
/// | V7 | v2 | 11 | `u32 domain; u16 bdf; u8 reset_works; u32 iommufd token` |
///
/// V1, V3, V4 and V5 read alike where their later fields are zero (the
/// page is zeroed): the decoder names the smallest layout that explains
/// every non-zero byte, as "V1/V3/V4/V5" when nothing tells them apart.
public struct VFIOPCIPayload: PayloadState, Hashable {
  public enum Layout: String, Sendable, Hashable, CaseIterable {
    case v1 = "V1", v2 = "V2", v3 = "V3", v4 = "V4", v5 = "V5", v6 = "V6", v7 = "V7"
    /// bdf first, fields that are zero beyond it: V1, V3, V4 and V5 agree.
    case bdfFirst = "V1/V3/V4/V5"
  }

  public var layout: Layout
  public var domain: UInt32
  public var bdf: UInt16
  public var resetWorks: UInt8?
  public var iommufdToken: UInt32?
  /// V2: `cfg_size` and the raw BARs.
  public var cfgSize: UInt32?
  public var rawBARs: [UInt32] = []

  public init(layout: Layout, domain: UInt32, bdf: UInt16, resetWorks: UInt8? = nil, iommufdToken: UInt32? = nil) {
    self.layout = layout
    self.domain = domain
    self.bdf = bdf
    self.resetWorks = resetWorks
    self.iommufdToken = iommufdToken
  }

  /// The device.
  public var device: PCIDevice { PCIDevice(domain: domain, bdf: bdf, refcount: 1) }

  public var fields: PayloadValue {
    var out: [(String, PayloadValue)] = [
      ("domain", .int(UInt64(domain))), ("bdf", .hex(UInt64(bdf))), ("name", .string(device.name)),
    ]
    if let cfgSize { out.append(("cfg_size", .int(UInt64(cfgSize)))) }
    if !rawBARs.isEmpty { out.append(("rbar", .array(rawBARs.map { .hex(UInt64($0)) }))) }
    if let resetWorks { out.append(("reset_works", .int(UInt64(resetWorks)))) }
    if let iommufdToken { out.append(("iommufd_ser", .object([("token", .int(UInt64(iommufdToken)))]))) }
    return .object(out)
  }

  public func summary(_ g: PageGeometry) -> String {
    var s = device.name
    if let resetWorks { s += resetWorks != 0 ? ", reset works" : ", no reset" }
    if let iommufdToken, iommufdToken != 0 { s += ", iommufd token \(iommufdToken)" }
    return s
  }
}

/// The `vfio-pci-v1` / `vfio-pci-v2` file handler codec.
public enum VFIOPCI: PayloadCodec {
  static var names: [(String, PayloadHost)] { [("vfio-pci-v1", .file), ("vfio-pci-v2", .file)] }
  /// V2's size without and with `reset_works`.
  static let v2Size = 8226

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError) -> DecodedPayload {
    let refs = [PayloadReference(.metadata, c.address, path: c.path, what: "vfio_pci_core_device_ser")]
    let r = try c.memory.reader(at: c.address, count: 16, path: c.path)
    func done(_ s: VFIOPCIPayload, _ why: String) -> DecodedPayload {
      var refs = refs
      if s.layout == .v2 { refs[0].pages = UInt64((v2Size + c.geometry.pageSize - 1) / c.geometry.pageSize) }
      return DecodedPayload(
        compatible: c.compatible, format: "\(c.compatible) \(s.layout.rawValue)", layoutReason: why, address: c.address,
        state: s, references: refs)
    }
    if c.compatible == "vfio-pci-v2" {
      let s = VFIOPCIPayload(
        layout: .v7, domain: try r.integer(at: 0), bdf: try r.integer(at: 4), resetWorks: try r.integer(at: 6),
        iommufdToken: try r.integer(at: 7))
      return done(s, "the string carries the layout")
    }
    let bytes = r.bytes.array
    let u16at0: UInt16 = try r.integer(at: 0)
    let u16at2: UInt16 = try r.integer(at: 2)
    let u32at2: UInt32 = try r.integer(at: 2)
    let u16at4: UInt16 = try r.integer(at: 4)
    // V2: cfg_size 256 or 4096 right after the bdf.
    if u32at2 == 256 || u32at2 == 4096 {
      let full = try c.memory.reader(at: c.address, count: v2Size + 1, path: c.path)
      var s = VFIOPCIPayload(
        layout: .v2, domain: 0, bdf: u16at0, resetWorks: try full.integer(at: v2Size, as: UInt8.self))
      s.cfgSize = u32at2
      for i in 0..<7 { s.rawBARs.append(try full.integer(at: 6 + 8192 + 4 * i)) }
      return done(s, "cfg_size \(u32at2) at offset 2")
    }
    // Two readings of the first six bytes: bdf first (V1/V3–V5) or domain first (V6).
    let bdfFirst = PCIDevice(domain: UInt32(u16at2), bdf: u16at0)
    let domainFirst = PCIDevice(domain: UInt32(u16at0) | UInt32(u16at2) << 16, bdf: u16at4)
    func key(_ d: PCIDevice) -> UInt64 { UInt64(d.domain) << 16 | UInt64(d.bdf) }
    var pick: VFIOPCIPayload.Layout?
    var why = ""
    if let known = c.pciDevices {
      let a = known.contains(key(bdfFirst))
      let b = known.contains(key(domainFirst)) && bytes[6...].allSatisfy({ $0 == 0 })
      if a != b {
        pick = a ? .bdfFirst : .v6
        why = "the \(a ? "bdf-first" : "domain-first") reading names a device of the PCI FLB"
      }
    }
    if pick == nil {
      // Without the PCI FLB: which readings are plausible at all?
      let v6 = u16at2 == 0 && u16at4 != 0 && bytes[6...].allSatisfy({ $0 == 0 })
      let first = u16at0 != 0 && bytes[4] <= 1 && bytes[9...].allSatisfy({ $0 == 0 })
      if v6 && !first {
        pick = .v6
        why =
          u16at0 == 0
          ? "bytes 0-3 are zero (domain 0) and a bdf follows at 4" : "only the domain-first reading is plausible"
      } else if first && !v6 {
        pick = .bdfFirst
        why = "a non-zero bdf at offset 0"
      } else if v6 && first {
        throw DecodeError(
          .inconsistent,
          "vfio-pci-v1 data reads as \(bdfFirst.name) (bdf first, V3-V5) and as \(domainFirst.name) (V6); without a PCI FLB naming one of them, not guessing",
          path: c.path, address: c.address)
      }
    }
    guard let pick else {
      throw DecodeError(.inconsistent, "vfio-pci-v1 data fits no layout", path: c.path, address: c.address)
    }
    if pick == .v6 {
      return done(VFIOPCIPayload(layout: .v6, domain: domainFirst.domain, bdf: domainFirst.bdf), why)
    }
    // bdf first: the smallest layout that explains the non-zero bytes.
    let token: UInt32 = try r.integer(at: 5)
    let layout: VFIOPCIPayload.Layout =
      token != 0 ? .v5 : bytes[4] != 0 ? .v4 : u16at2 != 0 ? .v3 : .bdfFirst
    if bytes[9...].contains(where: { $0 != 0 }) {
      try problems.report(
        r.error(.inconsistent, "bytes past the largest bdf-first layout (V5, 9 bytes) are not zero", at: 9))
    }
    var s = VFIOPCIPayload(layout: layout, domain: UInt32(u16at2), bdf: u16at0)
    if layout == .v4 || layout == .v5 { s.resetWorks = bytes[4] }
    if layout == .v5 { s.iommufdToken = token }
    return done(s, why + (layout == .bdfFirst ? "; the zero tail fits V1, V3, V4 and V5 alike" : ""))
  }

  /// Writes the device state in its layout (V2 with zeroed config space).
  public static func encode(_ state: VFIOPCIPayload, into w: inout PayloadWriter, path: DecodePath = .root)
    throws(EncodeError) -> PhysAddr
  {
    var s = _PayloadWriter(w.order)
    switch state.layout {
    case .v1, .v3, .v4, .v5, .bdfFirst:
      guard state.domain <= UInt32(UInt16.max) else {
        throw EncodeError(.notRepresentable, "\(state.layout.rawValue) holds a 16-bit domain", path: path)
      }
      s.u16(state.bdf)
      if state.layout != .v1 { s.u16(UInt16(state.domain)) }
      if state.layout == .v4 || state.layout == .v5 { s.u8(state.resetWorks ?? 0) }
      if state.layout == .v5 { s.u32(state.iommufdToken ?? 0) }
    case .v2:
      s.u16(state.bdf)
      s.u32(state.cfgSize ?? 256)
      s.zeros(8192)
      for i in 0..<7 { s.u32(i < state.rawBARs.count ? state.rawBARs[i] : 0) }
      s.u8(state.resetWorks ?? 0)
    case .v6:
      s.u32(state.domain)
      s.u16(state.bdf)
    case .v7:
      s.u32(state.domain)
      s.u16(state.bdf)
      s.u8(state.resetWorks ?? 0)
      s.u32(state.iommufdToken ?? 0)
    }
    return try w.place(s)
  }
}

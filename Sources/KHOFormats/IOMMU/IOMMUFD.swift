// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A preserved iommufd (`iommufd-v1`): `struct iommufd_ser` — `u64
/// nr_hwpts`, then `nr_hwpts` × `{u64 domain_data; u64 token; u8
/// reclaimed; u8 padding[7]}` (24 bytes). `domain_data` is the address of a
/// domain object in the IOMMU FLB's arrays.
public struct IOMMUFDPayload: PayloadState, Hashable {
  public struct HWPT: Hashable, Sendable {
    public var domainData: PhysAddr
    public var token: UInt64
    public var reclaimed: UInt8
    public init(domainData: PhysAddr, token: UInt64, reclaimed: UInt8 = 0) {
      self.domainData = domainData
      self.token = token
      self.reclaimed = reclaimed
    }
  }
  public var hwpts: [HWPT]
  public init(hwpts: [HWPT]) { self.hwpts = hwpts }

  public var fields: PayloadValue {
    .object([
      ("nr_hwpts", .int(UInt64(hwpts.count))),
      (
        "hwpt_array",
        .array(
          hwpts.map {
            .object([
              ("domain_data", .hex($0.domainData.rawValue)), ("token", .int($0.token)),
              ("reclaimed", .int(UInt64($0.reclaimed))),
            ])
          })
      ),
    ])
  }
  public func summary(_ g: PageGeometry) -> String { "\(hwpts.count) HWPT\(hwpts.count == 1 ? "" : "s")" }
}

/// The `iommufd-v1` file handler codec.
public enum IOMMUFD: PayloadCodec {
  static var names: [(String, PayloadHost)] { [("iommufd-v1", .file)] }

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError) -> DecodedPayload {
    let limit = c.allocationBytes(at: c.address)
    let h = try c.memory.reader(at: c.address, count: 8, path: c.path)
    var n: UInt64 = try h.integer(at: 0)
    let cap = UInt64((limit - 8) / 24)
    if n > cap {
      try problems.report(
        h.error(.truncated, "nr_hwpts \(n) is more than the \(cap) HWPTs its \(limit)-byte allocation holds", at: 0))
      n = cap
    }
    let r = try c.memory.reader(at: c.address, count: 8 + 24 * Int(n), path: c.path)
    var s = IOMMUFDPayload(hwpts: [])
    var tokens: [UInt64: Int] = [:]
    for i in 0..<Int(n) {
      let o = 8 + 24 * i
      let hw = IOMMUFDPayload.HWPT(
        domainData: PhysAddr(try r.integer(at: o)), token: try r.integer(at: o + 8),
        reclaimed: try r.integer(at: o + 16))
      if let first = tokens.updateValue(i, forKey: hw.token) {
        try problems.report(r.error(.duplicate, "HWPT token \(hw.token) is also hwpt_array[\(first)]", at: o + 8))
      }
      if hw.domainData.isZero {
        try problems.report(r.error(.missing, "hwpt_array[\(i)] has no domain (preserve requires one)", at: o))
      }
      s.hwpts.append(hw)
    }
    let pages = UInt64((8 + 24 * Int(n) + c.geometry.pageSize - 1) / c.geometry.pageSize)
    return DecodedPayload(
      compatible: c.compatible, format: "iommufd-v1", address: c.address, state: s,
      references: [PayloadReference(.metadata, c.address, pages: pages, path: c.path, what: "iommufd_ser")])
  }

  public static func encode(_ state: IOMMUFDPayload, into w: inout PayloadWriter) throws(EncodeError) -> PhysAddr {
    var s = _PayloadWriter(w.order)
    s.u64(UInt64(state.hwpts.count))
    for h in state.hwpts {
      s.u64(h.domainData.rawValue)
      s.u64(h.token)
      s.u8(h.reclaimed)
      s.zeros(7)
    }
    return try w.place(s)
  }
}

/// The 2024 RFC's iommufd state (`iommufd-v0`): a node of the old KHO
/// device tree, `iommufds/<id>/ioases/<obj>/<area>` with native-endian
/// `iova-start` (8), `iova-len` (8) and `iommu-prot` (4).
public struct IOMMUFDv0Payload: PayloadState, Hashable {
  public struct Area: Hashable, Sendable {
    public var path: String
    public var iovaStart: UInt64
    public var iovaLength: UInt64
    public var prot: UInt32
  }
  public var areas: [Area]

  public var fields: PayloadValue {
    .object([
      ("compatible", .string("iommufd-v0")),
      (
        "areas",
        .array(
          areas.map {
            .object([
              ("node", .string($0.path)), ("iova-start", .hex($0.iovaStart)), ("iova-len", .hex($0.iovaLength)),
              ("iommu-prot", .hex(UInt64($0.prot))),
            ])
          })
      ),
    ])
  }
  public func summary(_ g: PageGeometry) -> String {
    "\(areas.count) IOVA area\(areas.count == 1 ? "" : "s"), \(formatBytes(areas.reduce(0) { $0 &+ $1.iovaLength }))"
  }
}

/// The `iommufd` sub-node codec (`iommufd-v0`).
public enum IOMMUFDv0: PayloadCodec {
  static var names: [(String, PayloadHost)] { [("iommufd", .subnode)] }
  /// The most areas read.
  static let maxAreas = 1 << 16

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError) -> DecodedPayload {
    let fdt = try _PayloadFDT.read(c)
    try _PayloadFDT.checkCompatible(fdt, "iommufd-v0", c, &problems)
    let order = c.geometry.byteOrder
    var areas: [IOMMUFDv0Payload.Area] = []
    for node in fdt.nodes where node.depth == 5 && areas.count < maxAreas {
      let p = node.path
      guard p.hasPrefix("/iommufds/"), p.contains("/ioases/") else { continue }
      guard let s = node.property("iova-start")?.u64(order), let l = node.property("iova-len")?.u64(order),
        let prot = node.property("iommu-prot"), prot.length == 4,
        let pv: UInt32 = try? ByteReader(prot.value, order: order).integer(at: 0)
      else {
        try problems.report(
          DecodeError(
            .missing, "area \(p) lacks an 8-byte iova-start, iova-len or 4-byte iommu-prot", path: c.path,
            address: c.address))
        continue
      }
      if s.addingReportingOverflow(l).overflow {
        try problems.report(DecodeError(.outOfRange, "area \(p) runs past 2^64", path: c.path, address: c.address))
      }
      areas.append(.init(path: p, iovaStart: s, iovaLength: l, prot: pv))
    }
    return DecodedPayload(
      compatible: c.compatible, format: "iommufd-v0", address: c.address, state: IOMMUFDv0Payload(areas: areas),
      references: [PayloadReference(.metadata, c.address, path: c.path, what: "iommufd device tree")])
  }
}

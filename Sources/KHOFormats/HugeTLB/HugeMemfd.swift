// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A preserved HugeTLB-backed memfd (`huge-memfd-v1`): `struct hugemfd_ser` (41 bytes).
///
/// | off | size | field |
/// |---|---|---|
/// | 0 | 8 | `size` |
/// | 8 | 8 | `pos` (note: the reverse of memfd) |
/// | 16 | 8 | `nr_folios` |
/// | 24 | 16 | `folios`: ``VMallocDescriptor`` → `{pfn:52 reserved:12, index}` |
/// | 40 | 1 | `order`: the hstate order of every folio |
///
/// `index` is in base pages.
public struct HugeMemfdPayload: PayloadState, Hashable {
  /// The largest folio order accepted (1 GiB pages on 4 KiB are 18).
  public static let maxOrder: UInt8 = 30

  public var size: UInt64
  public var pos: UInt64
  public var order: UInt8
  public var folios: [MemfdFolio]
  public var folioArray: VMallocDescriptor = .empty

  public init(size: UInt64, pos: UInt64 = 0, order: UInt8, folios: [MemfdFolio]) {
    self.size = size
    self.pos = pos
    self.order = order
    self.folios = folios
  }

  public var fields: PayloadValue {
    .object([
      ("size", .int(size)), ("pos", .int(pos)), ("nr_folios", .int(UInt64(folios.count))),
      ("folios", .vmalloc(folioArray, entries: folios.map(PayloadValue.folio))), ("order", .int(UInt64(order))),
    ])
  }
}

/// The `huge-memfd-v1` file handler's codec.
public enum HugeMemfd: PayloadCodec {
  public static let compatible = "huge-memfd-v1"
  public static let serSize = 41
  public static var names: [(String, PayloadHost)] { [(compatible, .file)] }

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError)
    -> DecodedPayload
  {
    var r = try _PayloadArrays.header(c, size: serSize)
    let size = try r.u64()
    let pos = try r.u64()
    let nr = try r.u64()
    let descriptor = try VMallocDescriptor(reading: &r)
    let order = try r.u8()
    if (order == 0 && nr != 0) || order > HugeMemfdPayload.maxOrder {
      try problems.report(r.error(.outOfRange, "order \(order) is no huge page order", at: 40))
    }
    var refs = [PayloadReference(.metadata, c.address, path: c.path, what: "hugemfd_ser")]
    let p = c.path.appending("folios")
    var ar = try _PayloadArrays.read(
      descriptor, declared: nr, entrySize: 16, countName: "nr_folios", memory: c.memory, path: p,
      descriptorAddress: c.address.advanced(by: 24), countAddress: c.address.advanced(by: 16),
      what: "huge-memfd folio", problems: &problems, references: &refs)
    let folios = try _PayloadArrays.folios(&ar, count: ar.remaining / 16)
    try _FolioChecks.check(
      folios, fileSize: size, order: Int(Swift.min(order, HugeMemfdPayload.maxOrder)), path: p, geometry: c.geometry,
      problems: &problems, references: &refs, what: "huge page folio")
    var s = HugeMemfdPayload(size: size, pos: pos, order: order, folios: folios)
    s.folioArray = descriptor
    return DecodedPayload(compatible: c.compatible, format: compatible, address: c.address, state: s, references: refs)
  }

  public static func encode(_ state: HugeMemfdPayload, into w: inout PayloadWriter, path: DecodePath = .root)
    throws(EncodeError) -> PhysAddr
  {
    let d = try w.folioArray(state.folios, path: path.appending("folios"))
    var s = _PayloadWriter(w.order)
    s.u64(state.size)
    s.u64(state.pos)
    s.u64(UInt64(state.folios.count))
    s.descriptor(d)
    s.u8(state.order)
    return try w.place(s)
  }
}

extension HugeMemfdPayload {
  public func summary(_ g: PageGeometry) -> String {
    let page = g.pageSize64 << UInt64(Swift.min(order, HugeMemfdPayload.maxOrder))
    return "\(formatBytes(size)), \(folios.count) × \(formatBytes(page)) folio\(folios.count == 1 ? "" : "s")"
  }
}

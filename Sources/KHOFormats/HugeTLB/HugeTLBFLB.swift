// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The `hugetlb-v1` FLB: `struct hugetlb_ser` (37 bytes, packed).
///
/// Four `{u64 nr_pages; u8 order}` hstate slots at 9·i, then `u8
/// nr_hstates` at 36. The next kernel reads it at early boot to size its
/// huge page pools; `nr_hstates` is not bounds-checked there.
public struct HugeTLBPayload: PayloadState, Hashable {
  /// `HUGETLB_SER_MAX_HSTATES`.
  public static let maxHstates = 4

  /// One hstate: huge pages of one order preserved.
  public struct Hstate: Hashable, Sendable {
    public var nrPages: UInt64
    public var order: UInt8
    public init(nrPages: UInt64, order: UInt8) {
      self.nrPages = nrPages
      self.order = order
    }
  }

  /// The hstates in use (`nr_hstates` of them, at most four).
  public var hstates: [Hstate]

  public init(hstates: [Hstate]) { self.hstates = hstates }

  public var fields: PayloadValue {
    .object([
      (
        "hstates", .array(hstates.map { .object([("nr_pages", .int($0.nrPages)), ("order", .int(UInt64($0.order)))]) })
      ),
      ("nr_hstates", .int(UInt64(hstates.count))),
    ])
  }
}

/// The `hugetlb-v1` FLB codec.
public enum HugeTLBFLB: PayloadCodec {
  public static let name = "hugetlb-v1"
  public static let serSize = 37
  public static var names: [(String, PayloadHost)] { [(name, .flb)] }

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError)
    -> DecodedPayload
  {
    let r = try _PayloadArrays.header(c, size: serSize)
    let declared = Int(try r.integer(at: 36, as: UInt8.self))
    var n = declared
    if declared > HugeTLBPayload.maxHstates {
      try problems.report(
        r.error(.outOfRange, "nr_hstates \(declared) is above \(HugeTLBPayload.maxHstates) slots", at: 36))
      n = HugeTLBPayload.maxHstates
    }
    var hs: [HugeTLBPayload.Hstate] = []
    var seen: [UInt8: Int] = [:]
    for i in 0..<n {
      let h = HugeTLBPayload.Hstate(nrPages: try r.integer(at: 9 * i), order: try r.integer(at: 9 * i + 8))
      if h.order == 0 || h.order > HugeMemfdPayload.maxOrder {
        try problems.report(r.error(.outOfRange, "hstates[\(i)] order \(h.order) is no huge page order", at: 9 * i + 8))
      } else if let first = seen.updateValue(i, forKey: h.order) {
        try problems.report(
          r.error(.duplicate, "hstates[\(i)] repeats order \(h.order) of hstates[\(first)]", at: 9 * i + 8))
      }
      hs.append(h)
    }
    return DecodedPayload(
      compatible: c.compatible, format: name, address: c.address, state: HugeTLBPayload(hstates: hs),
      references: [PayloadReference(.metadata, c.address, path: c.path, what: "hugetlb_ser")])
  }

  public static func encode(_ state: HugeTLBPayload, into w: inout PayloadWriter, path: DecodePath = .root)
    throws(EncodeError) -> PhysAddr
  {
    guard state.hstates.count <= HugeTLBPayload.maxHstates else {
      throw EncodeError(
        .outOfRange, "\(state.hstates.count) hstates; the FLB holds \(HugeTLBPayload.maxHstates)", path: path)
    }
    var s = _PayloadWriter(w.order)
    for i in 0..<HugeTLBPayload.maxHstates {
      let h = i < state.hstates.count ? state.hstates[i] : HugeTLBPayload.Hstate(nrPages: 0, order: 0)
      s.u64(h.nrPages)
      s.u8(h.order)
    }
    s.u8(UInt8(state.hstates.count))
    return try w.place(s)
  }
}

extension HugeTLBPayload {
  public func summary(_ g: PageGeometry) -> String {
    hstates.map { "\($0.nrPages) × \(formatBytes(g.pageSize64 << UInt64(Swift.min($0.order, 40))))" }.joined(
      separator: ", ")
  }
}

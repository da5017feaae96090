// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The payload registry: which decoder reads what hangs under a string.
///
/// Strings are matched exactly, per host (a file compatible, an FLB name,
/// a root sub-node name). An unknown string has no decoder and stays
/// opaque. Where a string has had several layouts the decoder tells them
/// apart by content, names the one it chose in
/// ``DecodedPayload/format``, and reports a blob it cannot place.
public enum Payloads {
  /// Every payload codec. One line per family.
  static let codecs: [any PayloadCodec.Type] = [
    GuestMemfd.self, KVMVM.self, KVMVCPU.self, HugeMemfd.self, HugeTLBFLB.self,
    TmpfsMount.self, TmpfsFile.self, MSHVPreserved.self, HWPoison.self, PstoreKHO.self,
    PCIFLB.self, VFIOPCI.self, IOMMUFLB.self, IOMMUFD.self, IOMMUFDv0.self, CPUPreservation.self, RXEStub.self,
  ]

  static let table: [PayloadHost: [String: any PayloadCodec.Type]] = {
    var t: [PayloadHost: [String: any PayloadCodec.Type]] = [:]
    for c in codecs {
      for (name, host) in c.names { t[host, default: [:]][name] = c }
    }
    return t
  }()

  /// Every registered string and where it hangs, sorted.
  public static var registered: [(name: String, host: PayloadHost)] {
    table.flatMap { host, m in m.keys.map { ($0, host) } }.sorted { ($0.0, $0.1.rawValue) < ($1.0, $1.1.rawValue) }
  }

  /// Whether a decoder is registered for `name` under `host`.
  public static func isKnown(_ name: String, host: PayloadHost) -> Bool { table[host]?[name] != nil }

  /// Decodes strictly: the first problem is thrown; `nil` for an unknown string.
  public static func decode(_ context: PayloadContext) throws(DecodeError) -> DecodedPayload? {
    guard let codec = table[context.host]?[context.compatible] else { return nil }
    var problems = DecodeProblems(strict: true)
    return try codec.decode(context, &problems)
  }

  /// Decodes leniently: what could be read and every problem; `nil` value
  /// and no problems for an unknown string.
  public static func decodeReporting(_ context: PayloadContext) -> DecodeOutcome<DecodedPayload> {
    guard let codec = table[context.host]?[context.compatible] else { return DecodeOutcome(value: nil) }
    return DecodeOutcome.collect { (p: inout DecodeProblems) throws(DecodeError) in try codec.decode(context, &p) }
  }
}

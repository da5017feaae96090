// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The 128-byte feature header of the feature-flag LUO and its memfd
/// (linux-mm, not mainline): `u64 supp`, `u64 req`, `u64 active`, then 13
/// reserved u64.
///
/// A reader must support every bit of `req`; `active` is a subset of
/// `supp`; the reserved words are zero. Changes are additive, by new bits.
public struct FeatureHeader: Hashable, Sendable {
  /// The header's size.
  public static let size = 128

  public var supported: UInt64
  public var required: UInt64
  public var active: UInt64

  public init(supported: UInt64, required: UInt64, active: UInt64) {
    self.supported = supported
    self.required = required
    self.active = active
  }

  /// Reads the header at the reader's offset and reports what this toolkit
  /// cannot honour: a required bit outside `known`, an active bit that is
  /// not supported, a non-zero reserved word.
  @discardableResult
  static func check(_ r: inout ByteReader, known: UInt64, what: String, _ problems: inout DecodeProblems)
    throws(DecodeError) -> FeatureHeader
  {
    let start = r.offset
    let h = FeatureHeader(supported: try r.u64(), required: try r.u64(), active: try r.u64())
    if h.required & ~known != 0 {
      try problems.report(
        r.error(
          .unsupported,
          "\(what) requires feature bits 0x\(String(h.required & ~known, radix: 16)) this reader does not know",
          at: start + 8))
    }
    if h.active & ~h.supported != 0 {
      try problems.report(
        r.error(.inconsistent, "\(what) has active feature bits that are not supported", at: start + 16))
    }
    var firstSet: Int?
    for i in 0..<13 where try r.u64() != 0 && firstSet == nil { firstSet = i }
    if let i = firstSet {
      try problems.report(
        r.error(.unsupported, "\(what) feature header reserved[\(i)] is not zero", at: start + 24 + 8 * i))
    }
    return h
  }
}

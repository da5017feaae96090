// SPDX-License-Identifier: Apache-2.0
/// A version of the memfd file handler's format, named by the compatible
/// string in `luo_file_ser.compatible`.
public enum MemfdVersion: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
  /// `memfd-v1`: 40-byte `memfd_luo_ser` without seals.
  case v1 = "memfd-v1"
  /// `memfd-v2`: 48 bytes, adds `seals` and `flags` (flags must be 0).
  case v2 = "memfd-v2"
  /// `memfd-v2;vmalloc-v1`: memfd-v2 naming its vmalloc component (June 2026 RFC, §9.3).
  case v2VMalloc = "memfd-v2;vmalloc-v1"
  /// `memfd` under the feature-flag LUO (linux-mm, not mainline): a
  /// handler name without a version; 176 bytes, a 128-byte feature header
  /// (`supp`, `req`, `active`, 13 reserved u64) before the memfd-v2 fields.
  case features = "memfd"

  /// Feature bits of the feature-flag memfd: bit 0 SEALS, bit 1 FOLIOS.
  public static let knownFeatures: UInt64 = 0x3

  /// The version whose compatible string is exactly `compatible`.
  public init?(compatible: String) { self.init(rawValue: compatible) }

  /// The compatible string.
  public var compatible: String { rawValue }

  /// The size of `struct memfd_luo_ser`.
  public var serSize: Int { self == .v1 ? 40 : featureHeaderSize + 48 }

  /// Bytes of feature header before the fields (128 for ``features``, else 0).
  public var featureHeaderSize: Int { self == .features ? 128 : 0 }

  /// Whether the version stores seals and flags.
  public var hasSeals: Bool { self != .v1 }

  public var description: String { rawValue }
}

/// A version of the memfd file handler's format, named by the compatible
/// string in `luo_file_ser.compatible`.
public enum MemfdVersion: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
  /// `memfd-v1`: 40-byte `memfd_luo_ser` without seals.
  case v1 = "memfd-v1"
  /// `memfd-v2`: 48 bytes, adds `seals` and `flags` (flags must be 0).
  case v2 = "memfd-v2"
  /// `memfd-v2;vmalloc-v1`: memfd-v2 naming its vmalloc component (June 2026 RFC, §9.3).
  case v2VMalloc = "memfd-v2;vmalloc-v1"

  /// The version whose compatible string is exactly `compatible`.
  public init?(compatible: String) { self.init(rawValue: compatible) }

  /// The compatible string.
  public var compatible: String { rawValue }

  /// The size of `struct memfd_luo_ser`.
  public var serSize: Int { self == .v1 ? 40 : 48 }

  /// Whether the version stores seals and flags.
  public var hasSeals: Bool { self != .v1 }

  public var description: String { rawValue }
}

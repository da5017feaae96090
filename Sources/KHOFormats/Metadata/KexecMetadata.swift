// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The `kexec-metadata` sub-blob, version 1: which kernel wrote the
/// handover and how many kexecs happened since cold boot (kho-abi.md §4.3;
/// `Specs/kexec-metadata.md`).
///
/// A packed 73-byte struct in native byte order:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | version (1) |
/// | 4 | 65 | previous_release, NUL-terminated |
/// | 69 | 4 | kexec_count |
///
///     let m = try KexecMetadata(decoding: blob)
///     m.previousRelease     // "7.1.0-luo4-kho-oracle"
public struct KexecMetadata: Hashable, Sendable, Codable {
  /// `KHO_KEXEC_METADATA_VERSION`.
  public static let version1: UInt32 = 1
  /// `sizeof(struct kho_kexec_metadata)`.
  public static let size = 73
  /// `__NEW_UTS_LEN + 1`.
  public static let releaseFieldSize = 65
  /// The sub-node name KHO registers it under.
  public static let nodeName = "kexec-metadata"

  /// The layout version; 1 is the only one.
  public var version: UInt32
  /// `uname -r` of the kernel that wrote the blob.
  public var previousRelease: String
  /// kexec boots since the last cold boot (1 after the first).
  public var kexecCount: UInt32

  public init(previousRelease: String, kexecCount: UInt32, version: UInt32 = KexecMetadata.version1) {
    self.version = version
    self.previousRelease = previousRelease
    self.kexecCount = kexecCount
  }

  /// Decodes the blob. Longer blobs are accepted (the layout may grow at
  /// the end); the kernel ignores shorter ones and other versions, which
  /// here are errors that say so.
  ///
  /// - Throws: `DecodeError`: `truncated` (under 4 bytes, or under 73 for
  ///   version 1), `unknownVersion`, `badString` (no NUL in the release
  ///   field, or not UTF-8).
  public init(
    decoding bytes: Bytes, byteOrder: ByteOrder = .little,
    path: DecodePath = DecodePath.root.appending(KexecMetadata.nodeName), base: PhysAddr? = nil
  ) throws(DecodeError) {
    var r = ByteReader(bytes, order: byteOrder, path: path, base: base)
    guard bytes.count >= 4 else {
      throw r.error(.truncated, "\(bytes.count) bytes is too short for the version field", at: 0)
    }
    version = try r.u32()
    guard version == Self.version1 else {
      throw r.error(.unknownVersion, "version \(version); this toolkit knows version 1", at: 0)
    }
    guard bytes.count >= Self.size else {
      throw r.error(.truncated, "\(bytes.count) bytes is shorter than the 73-byte version-1 struct", at: 0)
    }
    previousRelease = try r.cString(fixedSize: Self.releaseFieldSize)
    kexecCount = try r.u32()
  }

  /// The 73 bytes of the blob.
  ///
  /// - Throws: `EncodeError` (`badString`) when the release holds a NUL
  ///   or is longer than 64 bytes.
  public func encoded(byteOrder: ByteOrder = .little) throws(EncodeError) -> [UInt8] {
    let release = Array(previousRelease.utf8)
    guard release.count < Self.releaseFieldSize, !release.contains(0) else {
      throw EncodeError(
        .badString, "release '\(previousRelease)' must be at most 64 bytes without NUL",
        path: DecodePath.root.appending(Self.nodeName))
    }
    var out: [UInt8] = []
    out.reserveCapacity(Self.size)
    withUnsafeBytes(of: byteOrder == .little ? version.littleEndian : version.bigEndian) {
      out.append(contentsOf: $0)
    }
    out.append(contentsOf: release)
    out.append(contentsOf: repeatElement(0, count: Self.releaseFieldSize - release.count))
    withUnsafeBytes(of: byteOrder == .little ? kexecCount.littleEndian : kexecCount.bigEndian) {
      out.append(contentsOf: $0)
    }
    return out
  }
}

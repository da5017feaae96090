// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A compatible string split on `;` into its base version and its
/// sub-components, as the June 2026 RFC composes them (kho-abi.md §9.3):
/// `kho-v4;radix-v1;vmalloc-v1` is base `kho-v4` with components
/// `radix-v1` and `vmalloc-v1`. Matching stays whole-string equality.
public struct KHOCompatible: Hashable, Sendable, Codable, CustomStringConvertible {
  /// The part before the first `;`.
  public var base: String
  /// The parts after it, in the order written (the RFC requires alphabetical).
  public var components: [String]

  /// Splits `string` on `;` (empty parts are kept, so the string round-trips).
  public init(parsing string: String) {
    let parts = string.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
    base = parts.first ?? ""
    components = Array(parts.dropFirst())
  }

  public init(base: String, components: [String] = []) {
    self.base = base
    self.components = components
  }

  /// The string as written: base and components joined with `;`.
  public var string: String { ([base] + components).joined(separator: ";") }
  public var description: String { string }

  /// Whether the components are unique and in strictly alphabetical order,
  /// as the RFC's KUnit test requires.
  public var isCanonical: Bool {
    zip(components, components.dropFirst()).allSatisfy { $0 < $1 }
  }
}

/// The versions of the KHO root FDT, told apart by the root `compatible`
/// (kho-abi.md §2.1; `Specs/kho-root.md`).
public enum KHORootVersion: String, CaseIterable, Sendable, Hashable, Codable, CustomStringConvertible {
  /// v6.16 … ≈7.0: bitmap chunk list map, sub-FDTs linked by `fdt`.
  case v1 = "kho-v1"
  /// Radix tree map; sub-blobs linked by `preserved-data`.
  case v2 = "kho-v2"
  /// Adds the required `blob-size` to each sub-node (raw sub-blobs allowed).
  case v3 = "kho-v3"
  /// Same root layout as v3; bumped with the linked-block format.
  case v4 = "kho-v4"
  /// The June 2026 RFC's composite string; root layout as v4.
  case v4Composite = "kho-v4;radix-v1;vmalloc-v1"
  /// The same RFC's patch 3/9, before `;vmalloc-v1` was appended; root layout as v4.
  case v4Radix = "kho-v4;radix-v1"

  /// The exact root `compatible` string.
  public var compatible: String { rawValue }
  public var description: String { rawValue }

  /// The string split into base and components.
  public var parsed: KHOCompatible { KHOCompatible(parsing: rawValue) }

  /// The format of the map `preserved-memory-map` points to.
  public var memoryMapFormat: MemoryMapFormat { self == .v1 ? .bitmapChunksV1 : .radixV1 }

  /// The sub-node property holding the sub-blob's address: `fdt` (v1) or
  /// `preserved-data` (v2 and later).
  public var subBlobProperty: String { self == .v1 ? "fdt" : "preserved-data" }

  /// Whether sub-nodes carry the (required) `blob-size` property (v3 and later).
  public var hasBlobSize: Bool { self != .v1 && self != .v2 }

  /// The version whose `compatible` is exactly `compatible`.
  ///
  /// - Throws: `DecodeError` (`unknownVersion`) naming what was seen and
  ///   every version this toolkit knows.
  public init(compatible: String, path: DecodePath = .root) throws(DecodeError) {
    if let v = KHORootVersion(rawValue: compatible) {
      self = v
      return
    }
    let known = KHORootVersion.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
    let seen = KHOCompatible(parsing: compatible)
    var detail = ""
    if seen.components.isEmpty {
      detail = ""
    } else if KHORootVersion.allCases.contains(where: { $0.parsed.base == seen.base }) {
      let sub = seen.components.map { "'\($0)'" }.joined(separator: ", ")
      detail = "; base '\(seen.base)' is known but not with components \(sub)"
      if !seen.isCanonical { detail += " (components must be unique and alphabetical)" }
    }
    throw DecodeError(
      .unknownVersion,
      "root compatible '\(compatible)' is not a KHO root version this toolkit knows\(detail); known: \(known)",
      path: path)
  }
}

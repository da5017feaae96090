// SPDX-License-Identifier: Apache-2.0
/// A component: one piece of handover data whose version a reader checks on its own.
///
/// The KHO root, LUO, each file handler (memfd, guest_memfd, …), each FLB,
/// memblock and the formats they nest (radix, block, vmalloc) are
/// components. The identifier is the version string's family: `luo` for
/// `luo-v5`, `kvm_vm_luo` for `kvm_vm_luo_v1`.
public struct ComponentID: RawRepresentable, Hashable, Comparable, Sendable, Codable,
  ExpressibleByStringLiteral, CustomStringConvertible
{
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }
  public init(_ rawValue: String) { self.rawValue = rawValue }
  public init(stringLiteral value: String) { self.rawValue = value }
  public var description: String { rawValue }
  public static func < (a: ComponentID, b: ComponentID) -> Bool {
    Array(a.rawValue.utf8).lexicographicallyPrecedes(Array(b.rawValue.utf8))
  }

  public init(from decoder: any Decoder) throws {
    rawValue = try decoder.singleValueContainer().decode(String.self)
  }
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(rawValue)
  }

  /// The KHO root FDT.
  public static let kho: ComponentID = "kho"
  /// The preserved-memory map (bitmap chunk list or radix tree).
  public static let memoryMap: ComponentID = "memory-map"
  /// KHO linked blocks.
  public static let block: ComponentID = "block"
  /// `kho_vmalloc` chunk chains.
  public static let vmalloc: ComponentID = "vmalloc"
  /// The LUO sub-blob.
  public static let luo: ComponentID = "luo"
  /// The `luo-session` node of luo-v1.
  public static let luoSession: ComponentID = "luo-session"
  /// The `luo-flb` node of luo-v1.
  public static let luoFLB: ComponentID = "luo-flb"
  /// The memfd file handler.
  public static let memfd: ComponentID = "memfd"
  /// The raw `kexec-metadata` sub-blob.
  public static let kexecMetadata: ComponentID = "kexec-metadata"
  /// The memblock `reserve_mem` sub-FDT.
  public static let memblock: ComponentID = "memblock"
  /// One `reserve_mem` region node inside memblock.
  public static let reserveMem: ComponentID = "reserve-mem"
  /// The KHO xarray.
  public static let khoXArray: ComponentID = "kho-xarray"
}

/// Where a version string lives, and so who checks it.
public enum ComponentRole: String, Hashable, Sendable, Codable, CaseIterable {
  /// The KHO root FDT's `compatible`.
  case root
  /// A sub-blob registered under the root (LUO, memblock, kexec-metadata).
  case subBlob = "sub-blob"
  /// A node inside a sub-blob's FDT (`luo-session`, `luo-flb`, memblock regions).
  case subNode = "sub-node"
  /// A LUO file handler (`luo_file_ser.compatible`).
  case fileHandler = "file-handler"
  /// A File-Lifecycle-Bound object (`luo_flb_ser.name`).
  case flb
  /// A format nested in another (radix, block, vmalloc, bitmap): named only inside composites or implied.
  case nested
  /// A data structure clients embed; no kernel string yet (KHO xarray).
  case embedded
}

/// Where a version comes from.
public enum VersionStatus: String, Hashable, Sendable, Codable, CaseIterable {
  /// In a mainline release (release mapping per kho-abi.md §11).
  case mainline
  /// In the linux-mm tree (June 2026 snapshots), not yet released.
  case linuxMM = "linux-mm"
  /// Posted as an RFC or patch series; never in a tree the reference read.
  case proposal
  /// In a developer's public tree.
  case developerTree = "developer-tree"
  /// An intermediate form of a series, superseded before merging.
  case preMerge = "pre-merge"
  /// Defined by this toolkit (no kernel counterpart).
  case toolkit
}

/// Whether the toolkit decodes a version's bytes or only names its string.
public enum DecodeScope: String, Hashable, Sendable, Codable {
  /// The toolkit has (or plans) a codec for it.
  case decoded
  /// Recognised by string only; its bytes are not decoded.
  case opaque
}

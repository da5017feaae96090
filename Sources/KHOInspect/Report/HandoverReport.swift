// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// Everything `khodump inspect` knows about one handover, as JSON.
///
/// The schema is documented in Specs/khodump-json.md and pinned by a test.
public struct HandoverReport: Codable, Sendable {
  public var source: SourceInfo
  public var root: RootInfo?
  public var memoryMap: MemoryMapInfo?
  public var components: [ComponentInfo] = []
  public var luo: LUOInfo?
  public var kexecMetadata: KexecMetadata?
  public var memblock: [MemblockRegion]?
  public var scratch: [PhysRange]?
  public var problems: [Problem] = []

  /// Whether any problem is an error or a warning (notes do not count).
  public var hasProblems: Bool { problems.contains { $0.severity != .note } }
}

/// Where the bytes came from.
public struct SourceInfo: Codable, Sendable {
  public var path: String
  public var kind: String
  public var pageSize: Int
  public var byteOrder: ByteOrder
  public var segments: Int
  public var capturedBytes: UInt64
}

/// The KHO root FDT.
public struct RootInfo: Codable, Sendable {
  public var address: PhysAddr?
  public var compatible: String?
  public var version: String?
  public var totalSize: Int
  public var memoryMap: PhysAddr?
}

/// The preserved-memory map.
public struct MemoryMapInfo: Codable, Sendable {
  public var format: String
  public var address: PhysAddr
  public var entries: Int
  public var pages: UInt64
  public var bytes: UInt64
  /// Entry count per order, keyed by the order as text.
  public var perOrder: [String: Int]
  public var tableNodesByLevel: [Int]?
  public var leaves: Int?
  public var emptyLeaves: Int?
  public var chunks: Int?
}

/// One sub-blob of the root.
public struct ComponentInfo: Codable, Sendable {
  public enum Status: String, Codable, Sendable {
    /// Decoded by a toolkit codec.
    case decoded
    /// Recognised but its format is not decoded by this toolkit.
    case opaque
    /// Its bytes are not in the image.
    case notCaptured = "not-captured"
    /// Decoding failed; see problems.
    case failed
  }

  public var name: String
  public var path: String
  public var address: PhysAddr
  public var size: UInt64?
  public var container: String
  public var compatible: String?
  public var status: Status
  public var summary: String?
  /// The decoded payload of a registered sub-node (see Specs/payloads.md).
  public var payload: PayloadValue?
}

/// The LUO state, as the next kernel would restore it.
public struct LUOInfo: Codable, Sendable {
  public struct File: Codable, Sendable {
    public var compatible: String
    public var token: UInt64
    public var data: PhysAddr
    public var memfd: MemfdInfo?
    /// The decoded payload: `format` and the upstream struct's fields.
    public var payload: PayloadValue?
    /// One line about the payload for a person.
    public var summary: String?
  }
  public struct Session: Codable, Sendable {
    public var name: String
    public var files: [File]
  }
  public struct FLB: Codable, Sendable {
    public var name: String
    public var data: String
    public var count: UInt64
    public var payload: PayloadValue?
    public var summary: String?
  }
  public var version: String
  public var blob: PhysAddr
  public var blobSize: UInt64
  public var liveupdateNumber: UInt64
  public var sessions: [Session]
  public var flbs: [FLB]
}

/// A memfd's preserved state.
public struct MemfdInfo: Codable, Sendable {
  public var version: String
  public var size: UInt64
  public var pos: UInt64
  public var seals: UInt32
  public var folios: Int
}

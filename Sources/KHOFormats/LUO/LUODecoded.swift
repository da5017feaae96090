// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A LUO handover decoded from memory: the state, the version it was
/// written in, and where every part of it lies.
public struct LUODecoded: Sendable {
  /// The version found (by content: FDT or raw `luo_ser`, then the compatible).
  public var version: LUOVersion
  /// The decoded state.
  public var state: LUOState
  /// Where the parts are in physical memory.
  public var layout: LUOLayout

  public init(version: LUOVersion, state: LUOState, layout: LUOLayout) {
    self.version = version
    self.state = state
    self.layout = layout
  }
}

/// Where the parts of a decoded LUO handover lie in physical memory.
public struct LUOLayout: Sendable {
  /// The `LUO` sub-blob (FDT or raw `luo_ser`).
  public var blob: PhysAddr
  /// The sub-blob's size as read (FDT `totalsize`, or the raw struct size).
  public var blobSize: UInt64
  /// `struct luo_ser`, for luo-v2 and later.
  public var ser: PhysAddr?
  /// The `luo-session` node's compatible (luo-v1 only).
  public var sessionCompatible: String?
  /// Whether a luo-v1 FDT has the `luo-flb` node (always true for later versions).
  public var flbNodePresent: Bool
  /// The session region (luo-v1 … v3) or first session block (luo-v4+); 0 = none.
  public var sessions: PhysAddr
  /// The session count header (luo-v1 … v3).
  public var sessionHeaderCount: UInt64?
  /// The session blocks (luo-v4+).
  public var sessionBlocks: [BlockChain.Block]
  /// The FLB region; 0 = none.
  public var flbs: PhysAddr
  /// The address of each session's `luo_session_ser`, in session order.
  public var sessionEntries: [PhysAddr]
  /// The files of each session, in session order.
  public var fileSets: [LUOFileSetLayout]
  /// Every range of LUO metadata the decoder read, with its owner's path:
  /// the pages that must be preserved for the next kernel to read it.
  public var regions: [LUORegion]

  /// The page geometry of the memory the handover was read from.
  public var geometryHint: PageGeometry

  public init(blob: PhysAddr, blobSize: UInt64, geometry: PageGeometry = .x86_64) {
    self.geometryHint = geometry
    self.blob = blob
    self.blobSize = blobSize
    self.ser = nil
    self.sessionCompatible = nil
    self.flbNodePresent = true
    self.sessions = .zero
    self.sessionHeaderCount = nil
    self.sessionBlocks = []
    self.flbs = .zero
    self.sessionEntries = []
    self.fileSets = []
    self.regions = []
  }
}

/// Where one session's files are.
public struct LUOFileSetLayout: Hashable, Sendable {
  /// `file_set_ser.files`: the array (luo-v1 … v4) or first block (luo-v5+); 0 = none.
  public var files: PhysAddr
  /// `file_set_ser.count` as stored.
  public var declaredCount: UInt64
  /// The entries actually read.
  public var readCount: Int
  /// The blocks of the chain (luo-v5+).
  public var blocks: [BlockChain.Block]
  /// The address of each `luo_file_ser` read.
  public var entries: [PhysAddr]

  public init(
    files: PhysAddr, declaredCount: UInt64, readCount: Int, blocks: [BlockChain.Block],
    entries: [PhysAddr] = []
  ) {
    self.files = files
    self.declaredCount = declaredCount
    self.readCount = readCount
    self.blocks = blocks
    self.entries = entries
  }
}

/// A range of physical memory that belongs to one part of a handover.
public struct LUORegion: Hashable, Sendable {
  /// The part, e.g. `/LUO/sessions[3]/files`.
  public var path: DecodePath
  /// The bytes it occupies.
  public var range: PhysRange

  public init(path: DecodePath, range: PhysRange) {
    self.path = path
    self.range = range
  }
}

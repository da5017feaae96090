// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// What the Live Update Orchestrator hands over, independent of version:
/// the model every LUO version decodes into and encodes from.
public struct LUOState: Hashable, Sendable {
  /// The number of live updates so far (the writer stores incoming + 1).
  public var liveUpdateNumber: UInt64
  /// Sessions in creation order.
  public var sessions: [LUOSession]
  /// File-lifecycle-bound objects with an outgoing reference.
  public var flbs: [LUOFLB]

  public init(liveUpdateNumber: UInt64, sessions: [LUOSession] = [], flbs: [LUOFLB] = []) {
    self.liveUpdateNumber = liveUpdateNumber
    self.sessions = sessions
    self.flbs = flbs
  }

  /// The number of files in all sessions.
  public var fileCount: Int { sessions.reduce(0) { $0 + $1.files.count } }
}

/// A session: a named container of preserved files, created through
/// `/dev/liveupdate` by the agent (luod).
public struct LUOSession: Hashable, Sendable {
  /// The session name (at most 63 bytes).
  public var name: String
  /// Files in preservation order.
  public var files: [LUOFile]

  public init(name: String, files: [LUOFile] = []) {
    self.name = name
    self.files = files
  }
}

/// A preserved file: which handler wrote it, the user's token for it, and
/// the handler's opaque u64 (for memfd, the address of its state).
public struct LUOFile: Hashable, Sendable {
  /// The file handler's compatible string (at most 47 bytes), e.g. `memfd-v1`.
  public var compatible: String
  /// The user-chosen token, unique within the session.
  public var token: UInt64
  /// The handler's `data` field (memfd: physical address of `memfd_luo_ser`).
  public var data: PhysAddr

  public init(compatible: String, token: UInt64, data: PhysAddr) {
    self.compatible = compatible
    self.token = token
    self.data = data
  }
}

/// A file-lifecycle-bound object (`struct luo_flb_ser`): global state shared
/// by files, such as IOMMU or PCI state.
public struct LUOFLB: Hashable, Sendable {
  /// The FLB's compatible string (at most 47 bytes).
  public var name: String
  /// The FLB's opaque handle.
  public var data: UInt64
  /// The number of preserved files that depend on it.
  public var count: UInt64

  public init(name: String, data: UInt64, count: UInt64) {
    self.name = name
    self.data = data
    self.count = count
  }
}

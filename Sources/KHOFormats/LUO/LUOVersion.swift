// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A version of the LUO handover format, named by its compatible string.
///
/// | version | container | sessions | files of a session |
/// |---|---|---|---|
/// | luo-v1 | FDT: `liveupdate-number`, `luo-session`, `luo-flb` nodes | 16-page array | 2-page array |
/// | luo-v2 | FDT: `luo-abi-header` → 24-byte `luo_ser` | 16-page array | 2-page array |
/// | luo-v3 | raw `luo_ser` | 16-page array | 2-page array |
/// | luo-v4 | raw `luo_ser` | block chain | 2-page array |
/// | luo-v5 | raw `luo_ser` | block chain | block chain |
/// | luo-v5;block-v1 | raw `luo_ser`, 16-byte compatible | block chain | block chain |
/// | luo-v3-kho-block-v1 | raw `luo_ser`, 24-byte compatible | block chain | 2-page array |
/// | luo-v4-kho-block-v1 | raw `luo_ser`, 24-byte compatible | block chain | block chain |
/// | luo-features | raw `luo_ser`, 128-byte feature header, no string | block chain | block chain |
public enum LUOVersion: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
  case v1 = "luo-v1"
  case v2 = "luo-v2"
  case v3 = "luo-v3"
  case v4 = "luo-v4"
  case v5 = "luo-v5"
  /// luo-v5 with the block component named (June 2026 RFC, §9.3).
  case v5Block = "luo-v5;block-v1"
  /// An earlier series revision: luo-v3 with the block string glued on by
  /// '-' (June 2026 mails); the lists as luo-v4 **[unsure]**.
  case v3KhoBlock = "luo-v3-kho-block-v1"
  /// The same revision's luo-v4: the lists as luo-v5 **[unsure]**.
  case v4KhoBlock = "luo-v4-kho-block-v1"
  /// The feature-flag LUO (linux-mm, not mainline): no compatible string; a
  /// 128-byte feature header (supp = req = active = 0x7: NUMBER, SESSIONS,
  /// FLBS) in its place; the luo-v5 lists. A toolkit name.
  case features = "luo-features"

  /// Feature bits of the feature-flag LUO: bit 0 NUMBER, bit 1 SESSIONS, bit 2 FLBS.
  public static let knownFeatures: UInt64 = 0x7

  /// Whether `luo_ser` starts with a compatible string (every raw version
  /// but ``features``).
  public var hasCompatibleString: Bool { self != .features }
  /// How the `LUO` sub-blob itself is stored.
  public enum Container: String, Sendable { case fdt, raw }
  /// How a list (sessions, or the files of a session) is stored.
  public enum ListLayout: String, Sendable {
    /// A fixed, contiguous region (`count` in a header or the session entry).
    case array
    /// A `block-v1` chain.
    case blocks
  }

  /// The version whose compatible string is exactly `compatible`.
  public init?(compatible: String) { self.init(rawValue: compatible) }

  /// The compatible string.
  public var compatible: String { rawValue }

  public var container: Container { self == .v1 || self == .v2 ? .fdt : .raw }

  /// How sessions are stored.
  public var sessionLayout: ListLayout {
    switch self {
    case .v1, .v2, .v3: .array
    case .v4, .v5, .v5Block, .v3KhoBlock, .v4KhoBlock, .features: .blocks
    }
  }

  /// How each session's files are stored.
  public var fileLayout: ListLayout {
    switch self {
    case .v1, .v2, .v3, .v4, .v3KhoBlock: .array
    case .v5, .v5Block, .v4KhoBlock, .features: .blocks
    }
  }

  /// Whether the version has a session count header (luo-v1 … luo-v3).
  public var hasSessionHeader: Bool { sessionLayout == .array }

  /// The length of the compatible field of a raw `luo_ser`:
  /// `ALIGN(strlen + 1, 8)` (8 for `luo-vN`, 16 for `luo-v5;block-v1`, 24
  /// for `luo-vN-kho-block-v1`); for ``features`` the feature header's 128.
  public var compatibleFieldLength: Int {
    self == .features ? FeatureHeader.size : (rawValue.utf8.count + 1 + 7) & ~7
  }

  /// The size of `struct luo_ser` (0 for luo-v1, which has none).
  public var serSize: Int {
    switch container {
    case .fdt: self == .v1 ? 0 : 24
    case .raw: compatibleFieldLength + 24
    }
  }

  /// The most sessions the version can hold with `geometry`.
  public func maxSessions(_ geometry: PageGeometry) -> Int {
    switch sessionLayout {
    case .array: LUOLimits.sessionArrayCapacity(geometry)
    case .blocks: BlockLayout.maxBlocks * LUOLimits.sessionsPerBlock(geometry)
    }
  }

  /// The most files one session can hold with `geometry`.
  public func maxFilesPerSession(_ geometry: PageGeometry) -> Int {
    switch fileLayout {
    case .array: LUOLimits.fileArrayCapacity(geometry)
    case .blocks: BlockLayout.maxBlocks * LUOLimits.filesPerBlock(geometry)
    }
  }

  public var description: String { rawValue }
}

/// The session entries of a luo-v1 FDT, named by the `luo-session` node's
/// compatible.
public enum LUOSessionForm: String, Hashable, Sendable, CaseIterable {
  /// `luo-session-v1`, the first luo-v1 commit: 64-byte entries holding
  /// only a name, so sessions cannot have files.
  case v1 = "luo-session-v1"
  /// `luo-session-v2`, as merged: 80-byte entries, a name and a file set.
  case v2 = "luo-session-v2"

  /// The size of one `struct luo_session_ser`.
  public var entrySize: Int { self == .v1 ? LUOLimits.sessionV1EntrySize : LUOLimits.sessionEntrySize }
}

/// Sizes and capacities fixed by the LUO ABI.
public enum LUOLimits {
  /// `LIVEUPDATE_SESSION_NAME_LENGTH` (includes the NUL).
  public static let sessionNameLength = 64
  /// `LIVEUPDATE_HNDL_COMPAT_LENGTH`.
  public static let fileCompatibleLength = 48
  /// `LIVEUPDATE_FLB_COMPAT_LENGTH`.
  public static let flbNameLength = 48
  /// `struct luo_session_ser` (luo-session-v2 and later).
  public static let sessionEntrySize = 80
  /// `struct luo_session_ser` of the first luo-v1 commit (`luo-session-v1`: name only).
  public static let sessionV1EntrySize = 64
  /// `struct luo_file_ser`.
  public static let fileEntrySize = 64
  /// `struct luo_flb_ser`.
  public static let flbEntrySize = 64
  /// `struct luo_flb_header_ser` (`pgcnt`, `count`).
  public static let flbHeaderSize = 16
  /// `struct luo_session_header_ser` (`count`).
  public static let sessionHeaderSize = 8
  /// `LUO_SESSION_PGCNT`: pages of the luo-v1 … luo-v3 session region.
  public static let sessionRegionPages = 16
  /// `LUO_FILE_PGCNT`: pages of a luo-v1 … luo-v4 file array.
  public static let fileArrayPages = 2
  /// Pages of the FLB region the kernel writes (`pgcnt`).
  public static let flbPages = 1
  /// The largest FLB `pgcnt` the decoder accepts.
  public static let maxFLBPages = 16

  /// Sessions in the 16-page region: `(16 * pageSize - 8) / 80` (819 with
  /// 4 KiB), or with `luo-session-v1`'s 64-byte entries 1023.
  public static func sessionArrayCapacity(_ g: PageGeometry, form: LUOSessionForm = .v2) -> Int {
    (sessionRegionPages * g.pageSize - sessionHeaderSize) / form.entrySize
  }
  /// Files in a 2-page array: `2 * pageSize / 64` (128 with 4 KiB).
  public static func fileArrayCapacity(_ g: PageGeometry) -> Int {
    fileArrayPages * g.pageSize / fileEntrySize
  }
  /// FLBs in `pages` pages: `(pages * pageSize - 16) / 64` (63 for one 4 KiB page).
  public static func flbCapacity(_ g: PageGeometry, pages: Int = flbPages) -> Int {
    (pages * g.pageSize - flbHeaderSize) / flbEntrySize
  }
  /// Sessions per block (51 with 4 KiB).
  public static func sessionsPerBlock(_ g: PageGeometry) -> Int {
    (g.pageSize - BlockLayout.headerSize) / sessionEntrySize
  }
  /// Files per block (63 with 4 KiB).
  public static func filesPerBlock(_ g: PageGeometry) -> Int {
    (g.pageSize - BlockLayout.headerSize) / fileEntrySize
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The shape of a `block-v1` chain: page-sized blocks of fixed-size entries.
///
/// A block is one page that starts with a 16-byte header (`next`, `count`)
/// followed by `count` entries packed with no padding. The entry size is not
/// stored anywhere in the blob: it is implied by the client's format version
/// (80 bytes for a LUO session, 64 for a LUO file), so the caller supplies it.
///
///     let layout = BlockLayout(entrySize: 64, geometry: .x86_64)
///     layout?.entriesPerBlock   // 63
public struct BlockLayout: Hashable, Sendable, CustomStringConvertible {
  /// The size of `struct kho_block_header_ser` (`next` u64, `count` u64).
  public static let headerSize = 16
  /// The longest chain the kernel restores (`KHO_MAX_BLOCKS`).
  public static let maxBlocks = 10_000

  /// The page size and byte order of the image.
  public let geometry: PageGeometry
  /// The size in bytes of one entry.
  public let entrySize: Int
  /// How many entries fit in one block: `(pageSize - 16) / entrySize`.
  public let entriesPerBlock: Int

  /// Creates a layout; `nil` when not even one entry fits in a block.
  public init?(entrySize: Int, geometry: PageGeometry = .x86_64) {
    guard entrySize > 0, entrySize <= geometry.pageSize - Self.headerSize else { return nil }
    self.geometry = geometry
    self.entrySize = entrySize
    self.entriesPerBlock = (geometry.pageSize - Self.headerSize) / entrySize
  }

  /// The size of a block in bytes (one page).
  @inlinable public var blockSize: Int { geometry.pageSize }

  /// The number of blocks a chain of `count` entries occupies.
  @inlinable public func blocks(for count: Int) -> Int {
    count <= 0 ? 0 : (count - 1) / entriesPerBlock + 1
  }

  /// The most entries a chain can hold within ``maxBlocks``.
  public var maxEntries: Int { Self.maxBlocks * entriesPerBlock }

  public var description: String {
    "block-v1 of \(entrySize)-byte entries, \(entriesPerBlock) per \(geometry.pageSize)-byte block"
  }
}

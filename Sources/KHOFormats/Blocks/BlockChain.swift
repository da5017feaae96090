// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A decoded `block-v1` chain: where its blocks are and the entries they hold.
///
/// The entries of all blocks are gathered, in chain order, into one
/// contiguous buffer (``entries``); read entry `i` with ``entry(_:)`` or
/// ``reader(forEntry:path:)``, which locate errors at the entry's physical
/// address.
public struct BlockChain: Sendable {
  /// One block of a chain as found in memory.
  public struct Block: Hashable, Sendable, Codable {
    /// The physical address of the block (its header).
    public var address: PhysAddr
    /// The `count` field: entries stored in this block.
    public var count: Int

    public init(address: PhysAddr, count: Int) {
      self.address = address
      self.count = count
    }
  }

  /// The layout the chain was read with.
  public let layout: BlockLayout
  /// The address the walk started at (0 for an empty chain).
  public let head: PhysAddr
  /// The blocks in chain order.
  public let blocks: [Block]
  /// All entries, `count * layout.entrySize` bytes, in chain order.
  public let entries: Bytes
  /// Index of the first entry of each block (same length as `blocks`).
  @usableFromInline let firstEntry: [Int]

  init(layout: BlockLayout, head: PhysAddr, blocks: [Block], entries: Bytes) {
    self.layout = layout
    self.head = head
    self.blocks = blocks
    self.entries = entries
    var starts: [Int] = []
    starts.reserveCapacity(blocks.count)
    var n = 0
    for b in blocks {
      starts.append(n)
      n += b.count
    }
    self.firstEntry = starts
  }

  /// An empty chain (head 0).
  public static func empty(_ layout: BlockLayout) -> BlockChain {
    BlockChain(layout: layout, head: .zero, blocks: [], entries: Bytes())
  }

  /// The number of entries.
  @inlinable public var count: Int { entries.count / layout.entrySize }

  /// Whether the chain holds no entries.
  @inlinable public var isEmpty: Bool { entries.isEmpty }

  /// The bytes of entry `i`, or `nil` when out of range.
  @inlinable public func entry(_ i: Int) -> Bytes? {
    guard i >= 0, i < count else { return nil }
    return entries.extracting(i * layout.entrySize, count: layout.entrySize)
  }

  /// The block holding entry `i` and the entry's slot within it.
  public func location(ofEntry i: Int) -> (block: Int, slot: Int)? {
    guard i >= 0, i < count, !firstEntry.isEmpty else { return nil }
    var lo = 0
    var hi = firstEntry.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if firstEntry[mid] <= i { lo = mid } else { hi = mid - 1 }
    }
    return (lo, i - firstEntry[lo])
  }

  /// The physical address of entry `i` in the image.
  public func address(ofEntry i: Int) -> PhysAddr? {
    guard let (b, slot) = location(ofEntry: i) else { return nil }
    let offset = UInt64(BlockLayout.headerSize + slot * layout.entrySize)
    return blocks[b].address.advanced(by: offset)
  }

  /// A reader over entry `i` whose errors carry `path` and the entry's address.
  public func reader(forEntry i: Int, path: DecodePath) -> ByteReader? {
    guard let bytes = entry(i) else { return nil }
    return ByteReader(
      bytes, order: layout.geometry.byteOrder, path: path, base: address(ofEntry: i))
  }

  /// The page ranges the chain occupies, one per block.
  public var pageRanges: [PhysRange] {
    blocks.map { PhysRange(start: $0.address, size: layout.geometry.pageSize64) }
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension BlockList {
  /// Where an encoded chain was written.
  public struct Written: Hashable, Sendable {
    /// The first block (0 when there were no entries).
    public var head: PhysAddr
    /// Every block, in chain order.
    public var blocks: [PhysAddr]

    public init(head: PhysAddr, blocks: [PhysAddr]) {
      self.head = head
      self.blocks = blocks
    }
  }

  /// Writes `entries` (packed, `count * layout.entrySize` bytes) as a chain
  /// of blocks allocated from `allocator` in `image`.
  ///
  /// Blocks are filled in order, each full except the last, so the chain has
  /// exactly `ceil(count / entriesPerBlock)` blocks and never an empty one;
  /// no entries give no blocks and a head of 0. This is what the kernel's
  /// `kho_block_set_*` writer leaves behind.
  ///
  /// - Throws: `EncodeError/Kind/outOfRange` when `entries` is not a whole
  ///   number of entries; `EncodeError/Kind/notRepresentable` when the
  ///   chain would need more than ``BlockLayout/maxBlocks`` blocks (the
  ///   kernel refuses to restore it); the allocator's error.
  public static func encode(
    _ entries: [UInt8], layout: BlockLayout, into image: PhysicalImage,
    allocator: inout PageAllocator, path: DecodePath = .root
  ) throws(EncodeError) -> Written {
    let pages = try blockCount(entries.count, layout, path)
    var blocks: [PhysAddr] = []
    blocks.reserveCapacity(pages)
    for _ in 0..<pages { blocks.append(try allocator.allocate(in: image)) }
    let size = layout.geometry.pageSize
    entries.withUnsafeBytes { src in
      for i in 0..<blocks.count {
        _PageWriter.withMutableBytes(at: blocks[i], count: size, in: image) { page in
          fillBlock(page, index: i, src, layout, blocks)
        }
      }
    }
    return Written(head: blocks.first ?? .zero, blocks: blocks)
  }

  /// Writes `entries` as a chain into `arena`, a caller-owned buffer that
  /// stands for contiguous physical pages starting at `base`.
  ///
  /// Block `i` goes to `arena[i * pageSize ..< (i + 1) * pageSize]` at
  /// physical address `base + i * pageSize`. Bytes of a block after its
  /// entries are zeroed, so a reused arena gives the same bytes as
  /// ``encode(_:layout:into:allocator:path:)``. This is the fast path: no
  /// page allocation, one copy per block.
  ///
  /// - Throws: as the image form, and `EncodeError/Kind/outOfMemory` when
  ///   the arena is too small or `base` is not page aligned.
  public static func encode(
    _ entries: [UInt8], layout: BlockLayout, into arena: inout [UInt8], base: PhysAddr,
    path: DecodePath = .root
  ) throws(EncodeError) -> Written {
    let pages = try blockCount(entries.count, layout, path)
    let g = layout.geometry
    guard base.isPageAligned(g) else {
      throw EncodeError(.outOfRange, "arena base \(base) is not page aligned", path: path)
    }
    guard pages <= arena.count / g.pageSize else {
      throw EncodeError(
        .outOfMemory, "\(pages) blocks do not fit in a \(arena.count)-byte arena", path: path)
    }
    var blocks: [PhysAddr] = []
    blocks.reserveCapacity(pages)
    for i in 0..<pages {
      guard let a = base.advanced(by: UInt64(i) * g.pageSize64) else {
        throw EncodeError(.outOfRange, "arena passes the top of physical memory", path: path)
      }
      blocks.append(a)
    }
    entries.withUnsafeBytes { src in
      arena.withUnsafeMutableBytes { dst in
        for i in 0..<blocks.count {
          let start = i * g.pageSize
          let page = UnsafeMutableRawBufferPointer(rebasing: dst[start..<start + g.pageSize])
          fillBlock(page, index: i, src, layout, blocks)
        }
      }
    }
    return Written(head: blocks.first ?? .zero, blocks: blocks)
  }

  /// The number of blocks for `byteCount` bytes of entries, or the reason
  /// the chain cannot be written.
  static func blockCount(_ byteCount: Int, _ layout: BlockLayout, _ path: DecodePath)
    throws(EncodeError) -> Int
  {
    guard byteCount % layout.entrySize == 0 else {
      throw EncodeError(
        .outOfRange,
        "\(byteCount) bytes are not a whole number of \(layout.entrySize)-byte entries",
        path: path)
    }
    let count = byteCount / layout.entrySize
    let pages = layout.blocks(for: count)
    guard pages <= BlockLayout.maxBlocks else {
      throw EncodeError(
        .notRepresentable,
        "\(count) entries need \(pages) blocks; a reader restores at most \(BlockLayout.maxBlocks)"
          + " (\(layout.maxEntries) entries of \(layout.entrySize) bytes)",
        path: path)
    }
    return pages
  }

  /// Writes block `index` (header, its entries, zeroed tail) into `page`.
  @inline(__always)
  static func fillBlock(
    _ page: UnsafeMutableRawBufferPointer, index i: Int, _ src: UnsafeRawBufferPointer,
    _ layout: BlockLayout, _ blocks: [PhysAddr]
  ) {
    let per = layout.entriesPerBlock
    let e = layout.entrySize
    let first = i * per
    let n = Swift.min(per, src.count / e - first)
    let little = layout.geometry.byteOrder == .little
    let next: UInt64 = i + 1 < blocks.count ? blocks[i + 1].rawValue : 0
    let c = UInt64(n)
    page.storeBytes(of: little ? next.littleEndian : next.bigEndian, toByteOffset: 0, as: UInt64.self)
    page.storeBytes(of: little ? c.littleEndian : c.bigEndian, toByteOffset: 8, as: UInt64.self)
    let bytes = n * e
    let h = BlockLayout.headerSize
    UnsafeMutableRawBufferPointer(rebasing: page[h..<h + bytes])
      .copyMemory(from: UnsafeRawBufferPointer(rebasing: src[first * e..<first * e + bytes]))
    UnsafeMutableRawBufferPointer(rebasing: page[(h + bytes)...])
      .initializeMemory(as: UInt8.self, repeating: 0)
  }
}

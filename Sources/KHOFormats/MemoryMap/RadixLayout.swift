// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The preserved-memory radix tree of kho-v2 and later (`radix-v1`):
/// encoder, decoder and zero-copy queries. See `Specs/radix-v1.md` and
/// kho-abi.md §3b.
///
/// A fixed-depth tree of page-sized nodes. Interior nodes are tables of u64
/// child addresses (0 = empty); level-0 nodes are bitmap leaves. One tree
/// holds all orders: the key of an entry is
/// `(1 << (64 - pageShift - order)) | (phys >> (pageShift + order))`.
///
///     var alloc = PageAllocator(start: 0x1_0000_0000, pages: 1 << 16)
///     let image = PhysicalImage()
///     let root = try RadixTree.encode(set, into: image, allocator: &alloc)
///     let back = try RadixTree.decode(from: image, root: root)      // == set
///     try RadixTree.isPreserved(PhysAddr(0x1_0000_0000), in: image, root: root)
public enum RadixTree {
  /// Which `KHO_TREE_MAX_DEPTH` formula the tree was built with.
  ///
  /// The two differ only for 16 KiB pages (4 vs 5 levels). The original
  /// formula leaves too few key bits for the order-0 order bit on 16 KiB
  /// kernels; the "+1" formula of later headers fixes it (kho-abi.md §3b,
  /// marked unsure there as to the commit that introduced it).
  public enum DepthRule: String, Sendable, Hashable, Codable, CaseIterable {
    /// `ceil((ORDER_0_LOG2 - BITMAP_LOG2) / TABLE_LOG2) + 1`.
    case original
    /// `ceil((ORDER_0_LOG2 - BITMAP_LOG2 + 1) / TABLE_LOG2) + 1` (the default).
    case plusOne
  }
}

/// The constants of the radix tree for one page geometry and depth rule.
public struct RadixLayout: Sendable, Hashable {
  /// The page geometry.
  public let geometry: PageGeometry
  /// The depth formula.
  public let depthRule: RadixTree.DepthRule
  /// `KHO_ORDER_0_LOG2 = 64 - pageShift`: the order bit position of order 0.
  public let order0Log2: Int
  /// `KHO_TABLE_SIZE_LOG2 = log2(pageSize / 8)`: index bits per table.
  public let tableBits: Int
  /// `KHO_BITMAP_SIZE_LOG2 = pageShift + 3`: index bits per leaf.
  public let leafBits: Int
  /// `KHO_TREE_MAX_DEPTH`: levels including the leaf level.
  public let depth: Int

  public init(geometry: PageGeometry = .x86_64, depthRule: RadixTree.DepthRule = .plusOne) {
    self.geometry = geometry
    self.depthRule = depthRule
    order0Log2 = 64 - geometry.pageShift
    tableBits = geometry.pageShift - 3
    leafBits = geometry.pageShift + 3
    let extra = depthRule == .plusOne ? 1 : 0
    let span = order0Log2 - leafBits + extra
    depth = (span + tableBits - 1) / tableBits + 1
  }

  /// Entries per table (512 for 4 KiB pages).
  @inlinable public var tableEntries: Int { 1 << tableBits }
  /// 64-bit words per leaf (512 for 4 KiB pages).
  @inlinable public var leafWords: Int { 1 << (leafBits - 6) }
  /// Key bits the tree can index: `leafBits + (depth - 1) * tableBits`.
  @inlinable public var coveredKeyBits: Int { leafBits + (depth - 1) * tableBits }
  /// The largest order an entry can have (its size fits 64 bits).
  @inlinable public var maxOrder: Int { order0Log2 - 1 }

  /// The lowest key bit of the table index at `level` (1 ... depth - 1).
  @inlinable public func indexShift(level: Int) -> Int { leafBits + (level - 1) * tableBits }

  /// The table index of `key` at `level` (1 ... depth - 1).
  @inlinable public func tableIndex(_ key: UInt64, level: Int) -> Int {
    let s = indexShift(level: level)
    return s >= 64 ? 0 : Int(truncatingIfNeeded: (key >> UInt64(s)) & UInt64(tableEntries - 1))
  }

  /// The level whose table index holds key bit `bit` (0: the leaf bit).
  ///
  /// The order bit of an entry's key sits at `order0Log2 - order`, so
  /// every level above this one indexes its table at 0.
  @inlinable public func level(ofKeyBit bit: Int) -> Int {
    bit < leafBits ? 0 : Swift.min(depth - 1, (bit - leafBits) / tableBits + 1)
  }

  /// The leaf bit index of `key`.
  @inlinable public func leafBit(_ key: UInt64) -> Int {
    Int(truncatingIfNeeded: key & ((1 << UInt64(leafBits)) - 1))
  }

  /// Whether an entry of `order` can be stored: its order bit is below
  /// ``coveredKeyBits`` (false only for order 0 with `.original` depth on
  /// 16 KiB pages).
  @inlinable public func canStore(order: Int) -> Bool {
    order >= 0 && order <= maxOrder && order0Log2 - order < coveredKeyBits
  }

  /// The key of the entry at page frame `pfn` with `order` (no checks).
  @inlinable public func key(pfn: UInt64, order: Int) -> UInt64 {
    (1 << UInt64(order0Log2 - order)) | (pfn >> UInt64(order))
  }

  /// The key of `entry`, or `nil` if it is not a valid entry for the tree.
  public func key(_ entry: PreservedEntry) -> UInt64? {
    guard canStore(order: entry.order), entry.phys.isAligned(order: entry.order, geometry) else {
      return nil
    }
    return key(pfn: entry.phys.pfn(geometry), order: entry.order)
  }

  /// The entry a key decodes to, or `nil` for a key with no order bit, with
  /// its order bit above `order0Log2`, or of an order whose size does not
  /// fit 64 bits.
  @inlinable public func entry(forKey key: UInt64) -> PreservedEntry? {
    guard key > 1 else { return nil }
    let p = 63 - key.leadingZeroBitCount
    guard p <= order0Log2 else { return nil }
    let order = order0Log2 - p
    let j = key & ~(1 << UInt64(p))
    return PreservedEntry(PhysAddr(j << UInt64(geometry.pageShift + order)), order: order)
  }
}

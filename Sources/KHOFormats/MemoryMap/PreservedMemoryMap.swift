// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The two on-memory forms of the preserved-memory map.
public enum MemoryMapFormat: String, Sendable, Hashable, Codable, CaseIterable {
  /// The kho-v1 linked list of bitmap chunks (``BitmapChunkList``).
  case bitmapChunksV1 = "bitmap-chunks-v1"
  /// The kho-v2+ radix tree (``RadixTree``).
  case radixV1 = "radix-v1"
}

/// Encodes and decodes a preserved-memory map in either format, so that a
/// map converts from one to the other through ``PreservedSet``.
///
///     let set = try PreservedMemoryMap.decode(.bitmapChunksV1, from: old, at: head)
///     let root = try PreservedMemoryMap.encode(set, as: .radixV1, into: image, allocator: &alloc)
public enum PreservedMemoryMap {
  /// Decodes the map of `format` whose first node is at `address`.
  public static func decode(
    _ format: MemoryMapFormat, from memory: any PhysicalMemory, at address: PhysAddr,
    depth: RadixTree.DepthRule = .plusOne, path: DecodePath = RadixTree.defaultPath
  ) throws(DecodeError) -> PreservedSet {
    switch format {
    case .bitmapChunksV1: try BitmapChunkList.decode(from: memory, head: address, path: path)
    case .radixV1: try RadixTree.decode(from: memory, root: address, depth: depth, path: path)
    }
  }

  /// Decodes the map of `format` at `address`, carrying on past problems:
  /// every entry that could be reached, the map's shape, and every problem.
  public static func decodeReporting(
    _ format: MemoryMapFormat, from memory: any PhysicalMemory, at address: PhysAddr,
    depth: RadixTree.DepthRule = .plusOne, path: DecodePath = RadixTree.defaultPath
  ) -> DecodeOutcome<DecodedMemoryMap> {
    switch format {
    case .bitmapChunksV1: BitmapChunkList.decodeReporting(from: memory, head: address, path: path)
    case .radixV1: RadixTree.decodeReporting(from: memory, root: address, depth: depth, path: path)
    }
  }

  /// Encodes `set` as `format`; returns the address the root FDT's
  /// `preserved-memory-map` property holds.
  @discardableResult
  public static func encode(
    _ set: PreservedSet, as format: MemoryMapFormat, into image: PhysicalImage,
    allocator: inout PageAllocator, depth: RadixTree.DepthRule = .plusOne
  ) throws(EncodeError) -> PhysAddr {
    switch format {
    case .bitmapChunksV1: try BitmapChunkList.encode(set, into: image, allocator: &allocator)
    case .radixV1: try RadixTree.encode(set, into: image, allocator: &allocator, depth: depth)
    }
  }
}

/// A preserved-memory map as a reporting decode read it: its entries and
/// the shape of the part that was read.
public struct DecodedMemoryMap: Sendable {
  /// Every entry the decode could reach.
  public var set: PreservedSet
  /// Counts of the map's own pages, by format.
  public var shape: Shape

  /// The counts a decode keeps of a map's own pages.
  public enum Shape: Sendable {
    /// Tables per level and leaves of a radix tree.
    case radix(RadixTreeStats)
    /// Chunks and bitmaps of a kho-v1 chunk list.
    case bitmapChunks(BitmapChunkStats)
  }

  /// The radix tree's counts, when the map is a radix tree.
  public var radixStats: RadixTreeStats? {
    if case .radix(let s) = shape { s } else { nil }
  }

  /// The chunk list's counts, when the map is a kho-v1 chunk list.
  public var chunkStats: BitmapChunkStats? {
    if case .bitmapChunks(let s) = shape { s } else { nil }
  }
}

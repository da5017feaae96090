// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The kho-v1 preserved-memory map: a singly linked list of one-page chunks
/// whose entries point at one-page bitmaps (kho-abi.md §3a; see
/// `Specs/bitmap-chunks-v1.md`).
///
/// Chunk (one page): `next` (u64 phys, 0 = end), `order` (u32), `num_elms`
/// (u32), then `(pageSize - 16) / 16` entries of `phys_start` (u64) and
/// `bitmap` (u64 phys of a page of `pageSize * 8` bits). Bit `b` of a bitmap
/// is the entry at `phys_start + (b << (order + pageShift))`. Each order
/// starts a new chunk; orders ascend along the list.
///
///     let head = try BitmapChunkList.encode(set, into: image, allocator: &alloc)
///     let back = try BitmapChunkList.decode(from: image, head: head)   // == set
public enum BitmapChunkList {
  /// Bytes of the chunk header (`next`, `order`, `num_elms`).
  public static let headerSize = 16
  /// Bytes of one entry (`phys_start`, `bitmap`).
  public static let entrySize = 16
  /// The longest list a decoder follows: 2^20 chunks (4 GiB of chunk pages
  /// with 4 KiB pages, up to 2^28 bitmaps, far more than any real map).
  public static let maxChunks = 1 << 20
  /// The path decode errors start from.
  public static let defaultPath: DecodePath = "/preserved-memory-map"

  /// Entries per chunk, `KHOSER_BITMAP_SIZE` (255 for 4 KiB pages).
  public static func entriesPerChunk(_ geometry: PageGeometry) -> Int {
    (geometry.pageSize - headerSize) / entrySize
  }
}

/// What a kho-v1 chunk list holds, as counted by a decode.
public struct BitmapChunkStats: Hashable, Sendable, Codable {
  /// Chunks followed.
  public var chunks = 0
  /// Chunks with `num_elms == 0`.
  public var emptyChunks = 0
  /// Bitmap pages read.
  public var bitmaps = 0
  /// Bitmap pages with no bit set (left by unpreserve).
  public var emptyBitmaps = 0
  /// Set bits in all bitmaps, including any that decode to no valid entry.
  public var setBits = 0
  /// The `order` of each chunk, in list order.
  public var chunkOrders: [Int] = []

  public init() {}
}

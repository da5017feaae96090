// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension BitmapChunkList {
  /// Writes `set` as a kho-v1 chunk list into `image`; returns the first
  /// chunk's address, or 0 for an empty set (what the kernel stores then).
  ///
  /// Allocation order: first every bitmap page, by ascending order and then
  /// ascending address (the kernel allocates a bitmap when a page of that
  /// order is first preserved in its range, so this is a kernel that
  /// preserved the entries in that order), then the chunk pages in list
  /// order (the kernel allocates them while serializing).
  ///
  /// - Throws: `EncodeError`: `notRepresentable` when the set's geometry
  ///   differs from the image's; `outOfMemory` from the allocator.
  @discardableResult
  public static func encode(
    _ set: PreservedSet, into image: PhysicalImage, allocator: inout PageAllocator
  ) throws(EncodeError) -> PhysAddr {
    let g = image.geometry
    guard set.geometry == g, allocator.geometry.pageShift == g.pageShift else {
      throw EncodeError(
        .notRepresentable, "set geometry (\(set.geometry)) differs from the image's (\(g))")
    }
    if set.isEmpty { return .zero }
    let w = set.wordsPerChunk
    var scratch: [UInt64] = []

    // 1. Bitmaps.
    var entries: [(order: Int, physStart: UInt64, bitmap: PhysAddr)] = []
    for o in set.orders {
      let map = set._orders[o]
      for i in 0..<map.keys.count {
        let page = try allocator.allocate(in: image)
        map.withChunk(at: i, wordsPerChunk: w) {
          _PageWords.store($0, at: page, in: image, scratch: &scratch)
        }
        let physStart = (map.keys[i] << UInt64(set.chunkShift)) << UInt64(o + g.pageShift)
        entries.append((o, physStart, page))
      }
    }

    // 2. Chunks: a new one per order, and when the current one is full.
    let perChunk = entriesPerChunk(g)
    var chunks: [(order: Int, items: ArraySlice<(order: Int, physStart: UInt64, bitmap: PhysAddr)>)] = []
    var start = 0
    while start < entries.count {
      let o = entries[start].order
      var end = start
      while end < entries.count, entries[end].order == o, end - start < perChunk { end += 1 }
      chunks.append((o, entries[start..<end]))
      start = end
    }
    var addresses: [PhysAddr] = []
    for _ in chunks { addresses.append(try allocator.allocate(in: image)) }
    var words = [UInt64](repeating: 0, count: g.pageSize / 8)
    for (n, chunk) in chunks.enumerated() {
      for x in words.indices { words[x] = 0 }
      words[0] = n + 1 < addresses.count ? addresses[n + 1].rawValue : 0
      let order = UInt64(chunk.order)
      let count = UInt64(chunk.items.count)
      words[1] = g.byteOrder == .little ? order | count << 32 : order << 32 | count
      for (k, e) in chunk.items.enumerated() {
        words[2 + 2 * k] = e.physStart
        words[3 + 2 * k] = e.bitmap.rawValue
      }
      words.withUnsafeBufferPointer {
        _PageWords.store($0, at: addresses[n], in: image, scratch: &scratch)
      }
    }
    return addresses[0]
  }
}

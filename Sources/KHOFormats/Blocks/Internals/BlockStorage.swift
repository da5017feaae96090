// SPDX-License-Identifier: Apache-2.0
import KHOCore

// The unsafe corner of the block-v1 codec: an owned buffer that decoded
// entries are copied into, and bulk copies into the pages of a
// PhysicalImage. Everything else in Blocks/ works on Bytes and ByteReader.

/// Heap memory of a fixed size that a `Bytes` value can own.
final class _EntryStorage: @unchecked Sendable {
  let base: UnsafeMutableRawPointer
  let count: Int

  init(count: Int) {
    self.count = count
    self.base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1), alignment: 16)
  }

  deinit { base.deallocate() }

  /// Copies `length` bytes from `source` at `offset` of `self` (bounds checked).
  func copy(from source: Bytes, sourceOffset: Int, length: Int, to offset: Int) -> Bool {
    guard length >= 0, offset >= 0, offset <= count - length,
      sourceOffset >= 0, sourceOffset <= source.count - length
    else { return false }
    if length == 0 { return true }
    return source.withUnsafeBytes { raw in
      guard let src = raw.baseAddress else { return false }
      (base + offset).copyMemory(from: src + sourceOffset, byteCount: length)
      return true
    }
  }

  /// The whole buffer as `Bytes` (keeps `self` alive).
  var bytes: Bytes { Bytes(_owner: self, base: UnsafeRawPointer(base), count: count) }
}

/// Bulk writes into the pages of a `PhysicalImage`.
enum _PageWriter {
  /// Calls `body` with writable memory for `count` bytes at `address`, which
  /// must lie inside one page that already exists in `image` (the allocator
  /// zeroed it); what `body` writes ends up in the image.
  ///
  /// `PhysicalImage` hands out views of its pages (documented: a later
  /// write shows through a `Bytes` it returned). When two reads of the
  /// same range return the same memory, that memory is the page itself and
  /// `body` writes it in place; otherwise `body` fills a scratch buffer that
  /// is then stored with the image's generic `write`.
  static func withMutableBytes(
    at address: PhysAddr, count n: Int, in image: PhysicalImage,
    _ body: (UnsafeMutableRawBufferPointer) -> Void
  ) {
    guard n > 0 else { return }
    if let a = try? image.bytes(at: address, count: n),
      let b = try? image.bytes(at: address, count: n)
    {
      let done: Bool = a.withUnsafeBytes { ra in
        b.withUnsafeBytes { rb in
          guard let pa = ra.baseAddress, pa == rb.baseAddress, ra.count == n else { return false }
          body(UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(mutating: pa), count: n))
          return true
        }
      }
      if done { return }
    }
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: n, alignment: 16)
    defer { scratch.deallocate() }
    scratch.initializeMemory(as: UInt8.self, repeating: 0)
    body(scratch)
    image.write(UnsafeRawBufferPointer(scratch), at: address)
  }

  /// Writes `bytes` at `address`, page by page, adding pages as needed.
  static func write(_ bytes: [UInt8], at address: PhysAddr, in image: PhysicalImage) {
    let g = image.geometry
    var done = 0
    var a = address.rawValue
    while done < bytes.count {
      let pfn = a >> UInt64(g.pageShift)
      if !image.hasPage(pfn) { image.zeroPage(pfn) }
      let off = Int(a & g.pageMask)
      let n = Swift.min(g.pageSize - off, bytes.count - done)
      bytes.withUnsafeBytes { src in
        let part = UnsafeRawBufferPointer(rebasing: src[done..<done + n])
        withMutableBytes(at: PhysAddr(a), count: n, in: image) { $0.copyMemory(from: part) }
      }
      done += n
      a &+= UInt64(n)
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension VMalloc {
  /// Writes the chunk chain for `runs` (each `2^order` pages, in
  /// virtual-address order) and returns the descriptor.
  ///
  /// Chunks are filled in order; as soon as one holds 511 (with 4 KiB
  /// pages) addresses a fresh, possibly empty chunk is linked after it, as
  /// the kernel's `kho_preserve_vmalloc` does. No runs give the all-zero
  /// descriptor.
  public static func encode(
    runs: [PhysAddr], order: UInt16 = 0, flags: UInt16 = VMallocDescriptor.allocFlag,
    into image: PhysicalImage, allocator: inout PageAllocator, path: DecodePath = .root
  ) throws(EncodeError) -> VMallocDescriptor {
    let g = image.geometry
    guard !runs.isEmpty else { return .empty }
    guard Int(order) <= VMallocDescriptor.maxOrder else {
      throw EncodeError(.outOfRange, "order \(order) is above \(VMallocDescriptor.maxOrder)", path: path)
    }
    let pages = UInt64(runs.count) << UInt64(order)
    guard pages <= UInt64(UInt32.max) else {
      throw EncodeError(
        .notRepresentable, "\(pages) pages do not fit total_pages (u32)", path: path)
    }
    for (i, r) in runs.enumerated() where r.isZero || !r.isAligned(order: Int(order), g) {
      throw EncodeError(
        .outOfRange, "run \(r) is zero or not aligned to order \(order)",
        path: path.appending("run", index: i))
    }
    let per = entriesPerChunk(g)
    var chunk = try allocator.allocate(in: image)
    let first = chunk
    var slot = 0
    for r in runs {
      image.store(r.rawValue, at: PhysAddr(chunk.rawValue + 8 + UInt64(slot) * 8))
      slot += 1
      if slot == per {
        let next = try allocator.allocate(in: image)
        image.store(next.rawValue, at: chunk)
        chunk = next
        slot = 0
      }
    }
    return VMallocDescriptor(first: first, totalPages: UInt32(pages), flags: flags, order: order)
  }

  /// Allocates order-0 pages for `data`, copies it in, and writes the chunk
  /// chain: what `vmalloc` + `kho_preserve_vmalloc` leave for an array.
  public static func encode(
    data: [UInt8], flags: UInt16 = VMallocDescriptor.allocFlag, into image: PhysicalImage,
    allocator: inout PageAllocator, path: DecodePath = .root
  ) throws(EncodeError) -> VMallocDescriptor {
    let g = image.geometry
    if data.isEmpty { return .empty }
    let pageCount = (data.count - 1) / g.pageSize + 1
    var runs: [PhysAddr] = []
    runs.reserveCapacity(pageCount)
    for i in 0..<pageCount {
      let page = try allocator.allocate(in: image)
      let start = i * g.pageSize
      let end = Swift.min(start + g.pageSize, data.count)
      data[start..<end].withUnsafeBytes { src in
        _PageWriter.withMutableBytes(at: page, count: src.count, in: image) { $0.copyMemory(from: src) }
      }
      runs.append(page)
    }
    return try encode(runs: runs, order: 0, flags: flags, into: image, allocator: &allocator, path: path)
  }
}

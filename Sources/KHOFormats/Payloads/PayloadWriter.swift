// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Where payload encoders put what they write, and what they preserved.
///
/// Encoders allocate the way the kernel's handlers do: a top struct with
/// `kho_alloc_preserve` (a zeroed allocation of `get_order(size)`, aligned
/// to its order and preserved at that order), arrays with `vmalloc` +
/// `kho_preserve_vmalloc` (order-0 pages and chunk pages). ``preserved``
/// lists every such allocation so a test or the demo can put it in the
/// preserved-memory map; the folios a payload names are the caller's.
public struct PayloadWriter {
  /// The image written to.
  public let image: PhysicalImage
  /// Where pages come from.
  public var allocator: PageAllocator
  /// Every allocation made, at the order the kernel preserves it.
  public private(set) var preserved: [PreservedEntry] = []

  public init(image: PhysicalImage, allocator: PageAllocator) {
    self.image = image
    self.allocator = allocator
  }

  var order: ByteOrder { image.geometry.byteOrder }

  /// `kho_alloc_preserve(bytes.count)` and a copy of `bytes` into it.
  mutating func place(_ w: _PayloadWriter) throws(EncodeError) -> PhysAddr {
    let g = image.geometry
    let pages = Swift.max(1, (w.bytes.count + g.pageSize - 1) / g.pageSize)
    var order = 0
    while (1 << order) < pages { order += 1 }
    let span = 1 << order
    // Align to the order: skip single pages until the next one is aligned.
    var a = try allocator.allocate(pages: 1, in: image)
    var skipped = 0
    while !a.isAligned(order: order, g), skipped < span {
      image.removePage(a.pfn(g))
      a = try allocator.allocate(pages: 1, in: image)
      skipped += 1
    }
    image.removePage(a.pfn(g))
    if span > 1 {
      // `a` is aligned and was handed out alone; take the rest of the span.
      let rest = try allocator.allocate(pages: span - 1, in: image)
      guard rest.rawValue == a.rawValue + g.pageSize64 else {
        throw EncodeError(.outOfMemory, "no contiguous room for an order-\(order) allocation")
      }
    }
    image.zeroPage(a.pfn(g))
    image.write(w.bytes, at: a)
    preserved.append(PreservedEntry(a, order: order))
    return a
  }

  /// `kho_alloc_preserve(bytes.count)` holding `bytes` (one zeroed page when empty).
  public mutating func allocatePreserved(_ bytes: [UInt8] = []) throws(EncodeError) -> PhysAddr {
    var b = _PayloadWriter(order)
    b.raw(bytes)
    return try place(b)
  }

  /// Records allocations made directly through ``allocator``.
  mutating func record(_ entries: [PreservedEntry]) { preserved += entries }

  /// A file's folio entries (`pfn:52 | flags:12`, `index`) as a `kho_vmalloc` array.
  mutating func folioArray(_ folios: [MemfdFolio], path: DecodePath) throws(EncodeError) -> VMallocDescriptor {
    try _checkFolios(folios, path: path)
    var array = _PayloadWriter(order)
    for f in folios { array.folio(f) }
    return try self.array(array.bytes, path: path)
  }

  /// `vmalloc` + `kho_preserve_vmalloc` of an array's bytes.
  mutating func array(_ bytes: [UInt8], path: DecodePath) throws(EncodeError) -> VMallocDescriptor {
    let before = allocator.allocated.count
    let d = try VMalloc.encode(data: bytes, into: image, allocator: &allocator, path: path)
    for p in allocator.allocated[before...] { preserved.append(PreservedEntry(p, order: 0)) }
    return d
  }
}

// SPDX-License-Identifier: Apache-2.0
/// Hands out zeroed pages at physical addresses, deterministically.
///
/// Encoders take their pages from an allocator so that the same input always
/// produces the same image, byte for byte. Pages are handed out in
/// ascending address order from the first range, then the next; a request
/// for several contiguous pages skips to the next naturally fitting run.
///
///     var alloc = PageAllocator(ranges: [PhysRange(start: 0x1_0000_0000, size: 1 << 30)])
///     let page = try alloc.allocate(in: image)      // 0x100000000, zeroed
public struct PageAllocator: Sendable {
  /// The geometry whose page size is used.
  public let geometry: PageGeometry
  private var ranges: [PhysRange]
  private var rangeIndex = 0
  private var nextAddress: UInt64

  /// Every page handed out, in order.
  public private(set) var allocated: [PhysAddr] = []

  /// Creates an allocator over `ranges` (each rounded inward to whole pages).
  public init(ranges: [PhysRange], geometry: PageGeometry = .x86_64) {
    self.geometry = geometry
    let mask = geometry.pageMask
    self.ranges = ranges.compactMap { r in
      let start = (r.start.rawValue &+ mask) & ~mask
      let end = r.end & ~mask
      return end > start ? PhysRange(start: PhysAddr(start), size: end - start) : nil
    }
    self.nextAddress = self.ranges.first?.start.rawValue ?? 0
  }

  /// An allocator over one range starting at `start`, `pages` pages long.
  public init(start: PhysAddr, pages: UInt64, geometry: PageGeometry = .x86_64) {
    self.init(
      ranges: [PhysRange(start: start, size: pages << UInt64(geometry.pageShift))],
      geometry: geometry)
  }

  /// Allocates `count` contiguous zeroed pages in `image`; returns the first.
  public mutating func allocate(pages count: Int = 1, in image: PhysicalImage)
    throws(EncodeError) -> PhysAddr
  {
    let bytes = UInt64(count) << UInt64(geometry.pageShift)
    while rangeIndex < ranges.count {
      let r = ranges[rangeIndex]
      if nextAddress >= r.start.rawValue, r.end - nextAddress >= bytes {
        let start = nextAddress
        nextAddress += bytes
        for i in 0..<UInt64(count) {
          image.zeroPage((start >> UInt64(geometry.pageShift)) + i)
        }
        allocated.append(PhysAddr(start))
        return PhysAddr(start)
      }
      rangeIndex += 1
      if rangeIndex < ranges.count { nextAddress = ranges[rangeIndex].start.rawValue }
    }
    throw EncodeError(.outOfMemory, "no room for \(count) page(s) in the allocator's ranges")
  }
}

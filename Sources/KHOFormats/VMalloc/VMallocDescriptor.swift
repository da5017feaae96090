// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// `struct kho_vmalloc`: the 16-byte descriptor of a preserved vmalloc area
/// (`vmalloc-v1`), embedded by its user (memfd keeps its folio array in one).
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | `first`: physical address of the first chunk (0 = empty area) |
/// | 8 | 4 | `total_pages`: pages in the area |
/// | 12 | 2 | `flags`: ``allocFlag``, ``hugeVmapFlag`` |
/// | 14 | 2 | `order`: page order of each contiguous run |
public struct VMallocDescriptor: Hashable, Sendable, Codable {
  /// The descriptor's size in bytes.
  public static let size = 16
  /// `KHO_VMALLOC_ALLOC`: the area came from `vmalloc` (`VM_ALLOC`).
  public static let allocFlag: UInt16 = 0x0001
  /// `KHO_VMALLOC_HUGE_VMAP`: the area was mapped with huge pages.
  public static let hugeVmapFlag: UInt16 = 0x0002
  /// Every flag bit the format defines.
  public static let knownFlags: UInt16 = allocFlag | hugeVmapFlag
  /// The highest run order the decoder accepts.
  public static let maxOrder = 24

  /// The physical address of the first `kho_vmalloc_chunk`.
  public var first: PhysAddr
  /// The number of pages in the area.
  public var totalPages: UInt32
  /// The `KHO_VMALLOC_*` flags.
  public var flags: UInt16
  /// Each run holds `2^order` contiguous pages.
  public var order: UInt16

  public init(first: PhysAddr, totalPages: UInt32, flags: UInt16, order: UInt16) {
    self.first = first
    self.totalPages = totalPages
    self.flags = flags
    self.order = order
  }

  /// The all-zero descriptor that zero-size users store.
  public static let empty = VMallocDescriptor(first: .zero, totalPages: 0, flags: 0, order: 0)

  /// Whether every field is zero.
  public var isEmpty: Bool { self == .empty }

  /// Reads a descriptor at the reader's cursor.
  public init(reading r: inout ByteReader) throws(DecodeError) {
    first = try r.address()
    totalPages = try r.u32()
    flags = try r.u16()
    order = try r.u16()
  }

  /// Stores the descriptor at `address` in `image`.
  public func write(to image: PhysicalImage, at address: PhysAddr) {
    image.store(first.rawValue, at: address)
    if let a = address.advanced(by: 8) { image.store(totalPages, at: a) }
    if let a = address.advanced(by: 12) { image.store(flags, at: a) }
    if let a = address.advanced(by: 14) { image.store(order, at: a) }
  }
}

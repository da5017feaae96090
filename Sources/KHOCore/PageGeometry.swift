// SPDX-License-Identifier: Apache-2.0
/// The byte order of integers in a handover image.
///
/// KHO writes every integer in the CPU's native order and never converts.
/// Every platform that uses KHO today is little-endian, but a codec must not
/// assume it: the order is a property of the image being read.
public enum ByteOrder: String, Sendable, Hashable, Codable, CaseIterable {
  case little
  case big
}

/// The page size and byte order of the kernel that wrote a handover.
///
/// Every on-memory KHO format depends on the kernel's page size (tables are
/// one page, bitmaps have `pageSize * 8` bits) and on its byte order. Codecs
/// take a geometry instead of hard-coding 4096 or little-endian.
///
///     let g = PageGeometry.x86_64          // 4 KiB, little-endian
///     g.pageSize                           // 4096
///     g.pageShift                          // 12
public struct PageGeometry: Sendable, Hashable, Codable, CustomStringConvertible {
  /// The base-2 logarithm of the page size: 12, 14 or 16.
  public let pageShift: Int
  /// The byte order of integers in the image.
  public let byteOrder: ByteOrder

  /// The page shifts that Linux supports on KHO platforms (4, 16, 64 KiB).
  public static let supportedPageShifts: [Int] = [12, 14, 16]

  /// Creates a geometry; returns `nil` for a page size KHO does not use.
  public init?(pageShift: Int, byteOrder: ByteOrder = .little) {
    guard Self.supportedPageShifts.contains(pageShift) else { return nil }
    self.pageShift = pageShift
    self.byteOrder = byteOrder
  }

  /// Creates a geometry from a page size in bytes (4096, 16384 or 65536).
  public init?(pageSize: Int, byteOrder: ByteOrder = .little) {
    guard pageSize > 0, pageSize & (pageSize - 1) == 0 else { return nil }
    self.init(pageShift: pageSize.trailingZeroBitCount, byteOrder: byteOrder)
  }

  /// 4 KiB pages, little-endian: x86_64 and most arm64 kernels.
  public static let x86_64 = PageGeometry(uncheckedShift: 12, .little)
  /// 16 KiB pages, little-endian (arm64 with `CONFIG_ARM64_16K_PAGES`).
  public static let arm64_16K = PageGeometry(uncheckedShift: 14, .little)
  /// 64 KiB pages, little-endian (arm64 with `CONFIG_ARM64_64K_PAGES`).
  public static let arm64_64K = PageGeometry(uncheckedShift: 16, .little)

  private init(uncheckedShift: Int, _ order: ByteOrder) {
    self.pageShift = uncheckedShift
    self.byteOrder = order
  }

  /// The page size in bytes.
  @inlinable public var pageSize: Int { 1 << pageShift }

  /// The page size in bytes, as a 64-bit value for address arithmetic.
  @inlinable public var pageSize64: UInt64 { 1 << UInt64(pageShift) }

  /// Mask of the offset-within-page bits of an address.
  @inlinable public var pageMask: UInt64 { pageSize64 &- 1 }

  public var description: String {
    let kib = pageSize / 1024
    return "\(kib) KiB pages, \(byteOrder)-endian"
  }
}

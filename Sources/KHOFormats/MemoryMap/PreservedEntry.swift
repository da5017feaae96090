// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// One preserved range: `2^order` pages starting at a naturally aligned
/// physical address.
///
/// This is the unit both preserved-memory-map formats record (kho-abi.md §3):
/// "`2^order` pages starting at `phys` survive the kexec, restored as one
/// folio of that order". Entries sort by address, then by order.
///
///     let e = PreservedEntry(0x4000_0000, order: 9)   // a 2 MiB folio
///     e.description                                   // "0x40000000 9"
@frozen
public struct PreservedEntry: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
  /// The physical address of the first page.
  public var phys: PhysAddr
  /// The base-2 logarithm of the number of pages.
  public var order: Int

  @inlinable
  public init(_ phys: PhysAddr, order: Int) {
    self.phys = phys
    self.order = order
  }

  @inlinable
  public static func < (a: PreservedEntry, b: PreservedEntry) -> Bool {
    a.phys != b.phys ? a.phys < b.phys : a.order < b.order
  }

  /// The number of pages, `2^order` (0 when the order is not 0...63).
  @inlinable public var pageCount: UInt64 {
    order >= 0 && order < 64 ? 1 << UInt64(order) : 0
  }

  /// The number of bytes under `geometry`, or `nil` when it does not fit 64 bits.
  @inlinable public func byteCount(_ geometry: PageGeometry) -> UInt64? {
    let shift = order + geometry.pageShift
    return order >= 0 && shift < 64 ? 1 << UInt64(shift) : nil
  }

  /// The page frame number of the first page.
  @inlinable public func pfn(_ geometry: PageGeometry) -> UInt64 { phys.pfn(geometry) }

  /// `0x<phys in lowercase hex> <order>`, the line format of `khodump pages`.
  public var description: String { "\(phys) \(order)" }
}

extension PreservedEntry {
  /// Splits the page-frame range `pages` into maximal naturally aligned
  /// power-of-two pieces, the way `kho_preserve_pages()` does.
  ///
  /// Each piece has `order = min(ctz(pfn), ilog2(end - pfn))`; the pieces
  /// come out in ascending address order and cover the range exactly.
  ///
  ///     PreservedEntry.split(pages: 3..<12, .x86_64)
  ///     // pfn 3 order 0, pfn 4 order 2, pfn 8 order 2
  public static func split(pages: Range<UInt64>, _ geometry: PageGeometry) -> [PreservedEntry] {
    var out: [PreservedEntry] = []
    forEachPiece(of: pages, geometry) { out.append($0) }
    return out
  }

  /// Calls `body` with each piece of `split(pages:_:)`, without allocating.
  ///
  /// Page frames whose address does not fit 64 bits are left out.
  @inlinable
  public static func forEachPiece(
    of pages: Range<UInt64>, _ geometry: PageGeometry, _ body: (PreservedEntry) -> Void
  ) {
    let shift = UInt64(geometry.pageShift)
    let limit: UInt64 = 1 << (64 - shift)  // first pfn whose address overflows
    var pfn = pages.lowerBound
    let end = Swift.min(pages.upperBound, limit)
    while pfn < end {
      let remaining = end - pfn
      let sizeOrder = 63 - remaining.leadingZeroBitCount
      let alignOrder = pfn == 0 ? 64 : pfn.trailingZeroBitCount
      let order = Swift.min(sizeOrder, alignOrder)
      body(PreservedEntry(PhysAddr(pfn << shift), order: order))
      pfn += 1 << UInt64(order)
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Counts of a ``PreservedSet`` per order and in total, as `khodump pages
/// --summary` prints them.
public struct PreservedSetSummary: Hashable, Sendable, Codable {
  /// One order's counts.
  public struct Order: Hashable, Sendable, Codable {
    public var order: Int
    public var entries: Int
    public var pages: UInt64
    public var bytes: UInt64
  }

  /// The populated orders, ascending.
  public var orders: [Order]
  public var totalEntries: Int
  public var totalPages: UInt64
  /// Bytes, saturating at `UInt64.max`.
  public var totalBytes: UInt64
}

extension PreservedSet {
  /// The counts per order and in total.
  public var summary: PreservedSetSummary {
    let shift = UInt64(geometry.pageShift)
    let rows = orders.map { o -> PreservedSetSummary.Order in
      let pages = UInt64(count(order: o)) << UInt64(o)
      let bytes = pages >> (64 - shift) != 0 ? UInt64.max : pages << shift
      return .init(order: o, entries: count(order: o), pages: pages, bytes: bytes)
    }
    return PreservedSetSummary(
      orders: rows, totalEntries: count, totalPages: pageCount, totalBytes: byteCount)
  }

  /// The listing lines, `0x<phys in lowercase hex> <order>`, sorted by
  /// address then order (the sha256 input of the kernel images' expected.json).
  public func listingLines() -> [String] { map(\.description) }

  /// Writes the listing (each line ending in `\n`) in chunks of about
  /// `chunkSize` bytes, without building a string per entry.
  public func writeListing(chunkSize: Int = 1 << 16, _ write: ([UInt8]) -> Void) {
    var buffer: [UInt8] = []
    buffer.reserveCapacity(chunkSize + 32)
    let digits = Array("0123456789abcdef".utf8)
    for e in self {
      buffer.append(0x30)
      buffer.append(0x78)
      let v = e.phys.rawValue
      var shift = v == 0 ? 0 : (63 - v.leadingZeroBitCount) / 4 * 4
      while shift >= 0 {
        buffer.append(digits[Int((v >> UInt64(shift)) & 0xf)])
        shift -= 4
      }
      buffer.append(0x20)
      if e.order >= 10 { buffer.append(0x30 + UInt8(e.order / 10)) }
      buffer.append(0x30 + UInt8(e.order % 10))
      buffer.append(0x0a)
      if buffer.count >= chunkSize {
        write(buffer)
        buffer.removeAll(keepingCapacity: true)
      }
    }
    if !buffer.isEmpty { write(buffer) }
  }
}

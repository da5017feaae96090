// SPDX-License-Identifier: Apache-2.0
/// A physical address in the memory of the machine that wrote a handover.
///
/// KHO links its data by physical addresses stored as u64; 0 means "none".
/// The type keeps addresses apart from lengths and page frame numbers and
/// prints in the lowercase hex that kernel logs and fdtdump use.
@frozen
public struct PhysAddr: RawRepresentable, Hashable, Comparable, Sendable, Codable,
  CustomStringConvertible, ExpressibleByIntegerLiteral
{
  /// The address as a 64-bit integer.
  public var rawValue: UInt64

  @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
  @inlinable public init(_ value: UInt64) { self.rawValue = value }
  @inlinable public init(integerLiteral value: UInt64) { self.rawValue = value }

  /// The null pointer of KHO formats.
  public static let zero = PhysAddr(0)

  @inlinable public var isZero: Bool { rawValue == 0 }

  @inlinable public static func < (a: PhysAddr, b: PhysAddr) -> Bool {
    a.rawValue < b.rawValue
  }

  /// `0x` followed by lowercase hex digits, no padding.
  public var description: String { "0x" + String(rawValue, radix: 16) }

  /// Decodes `"0x…"` (as written) or a plain number.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let n = try? c.decode(UInt64.self) {
      self.init(n)
      return
    }
    let s = try c.decode(String.self).lowercased()
    guard s.hasPrefix("0x"), let v = UInt64(s.dropFirst(2), radix: 16) else {
      throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a 0x-prefixed hex address: \(s)")
    }
    self.init(v)
  }

  /// Encodes as a `"0x…"` string: JSON numbers lose precision above 2^53.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }

  /// Adds a byte offset, or returns `nil` if the sum overflows 64 bits.
  @inlinable public func advanced(by offset: UInt64) -> PhysAddr? {
    let (sum, overflow) = rawValue.addingReportingOverflow(offset)
    return overflow ? nil : PhysAddr(sum)
  }

  /// The page frame number of this address under `geometry`.
  @inlinable public func pfn(_ geometry: PageGeometry) -> UInt64 {
    rawValue >> UInt64(geometry.pageShift)
  }

  /// The byte offset of this address inside its page.
  @inlinable public func pageOffset(_ geometry: PageGeometry) -> Int {
    Int(truncatingIfNeeded: rawValue & geometry.pageMask)
  }

  /// Whether the address is a multiple of the page size.
  @inlinable public func isPageAligned(_ geometry: PageGeometry) -> Bool {
    rawValue & geometry.pageMask == 0
  }

  /// Whether the address is aligned to `2^order` pages.
  @inlinable public func isAligned(order: Int, _ geometry: PageGeometry) -> Bool {
    let shift = geometry.pageShift + order
    guard shift < 64 else { return rawValue == 0 }
    return rawValue & ((1 << UInt64(shift)) &- 1) == 0
  }

  /// The address of the first byte of page `pfn`, or `nil` on overflow.
  @inlinable public static func ofPage(_ pfn: UInt64, _ geometry: PageGeometry) -> PhysAddr? {
    let shift = UInt64(geometry.pageShift)
    guard pfn >> (64 - shift) == 0 else { return nil }
    return PhysAddr(pfn << shift)
  }
}

/// A half-open range of physical memory, `[start, start + size)`.
public struct PhysRange: Hashable, Sendable, Codable, CustomStringConvertible {
  /// The first byte of the range.
  public var start: PhysAddr
  /// The length in bytes.
  public var size: UInt64

  public init(start: PhysAddr, size: UInt64) {
    self.start = start
    self.size = size
  }

  /// One past the last byte; saturates at `UInt64.max`.
  public var end: UInt64 {
    let (e, o) = start.rawValue.addingReportingOverflow(size)
    return o ? UInt64.max : e
  }

  /// Whether `address` lies in the range.
  public func contains(_ address: PhysAddr) -> Bool {
    address.rawValue >= start.rawValue && address.rawValue - start.rawValue < size
  }

  /// Whether the two ranges share at least one byte.
  public func overlaps(_ other: PhysRange) -> Bool {
    size > 0 && other.size > 0 && start.rawValue < other.end && other.start.rawValue < end
  }

  public var description: String { "[\(start), 0x\(String(end, radix: 16)))" }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// One scratch area: memory the next kernel may use freely during early
/// boot (kho-abi.md §1.3).
public struct KHOScratchArea: Hashable, Sendable, Codable, CustomStringConvertible {
  /// The first byte.
  public var address: PhysAddr
  /// The length in bytes.
  public var size: UInt64

  public init(address: PhysAddr, size: UInt64) {
    self.address = address
    self.size = size
  }

  /// The area as a physical range.
  public var range: PhysRange { PhysRange(start: address, size: size) }

  public var description: String { "\(address)+0x\(String(size, radix: 16))" }
}

/// The scratch array the old kernel hands over beside the root FDT: 16-byte
/// `{addr, size}` entries in native byte order, `length / 16` of them.
/// Index 0 is the low-memory area, 1 the global area, 2… one per NUMA node.
public enum KHOScratch {
  /// Bytes per entry (`struct kho_scratch`).
  public static let entrySize = 16

  /// Decodes the array in `bytes`.
  ///
  /// - Throws: `DecodeError`: `badCount` when the length is not a
  ///   multiple of 16; `outOfRange` for an area that runs past the top of
  ///   64-bit memory.
  public static func decode(
    _ bytes: Bytes, byteOrder: ByteOrder = .little, path: DecodePath = "/scratch",
    base: PhysAddr? = nil
  ) throws(DecodeError) -> [KHOScratchArea] {
    var problems = DecodeProblems(strict: true)
    return try decode(bytes, byteOrder, path, base, &problems)
  }

  /// Decodes what it can of the array in `bytes`: every whole entry, with
  /// a problem for a length that is not a multiple of 16 and for each area
  /// that runs past the top of memory (left out).
  public static func decodeReporting(
    _ bytes: Bytes, byteOrder: ByteOrder = .little, path: DecodePath = "/scratch", base: PhysAddr? = nil
  ) -> DecodeOutcome<[KHOScratchArea]> {
    .collect { (problems) throws(DecodeError) in try decode(bytes, byteOrder, path, base, &problems) }
  }

  static func decode(
    _ bytes: Bytes, _ byteOrder: ByteOrder, _ path: DecodePath, _ base: PhysAddr?, _ problems: inout DecodeProblems
  ) throws(DecodeError) -> [KHOScratchArea] {
    var r = ByteReader(bytes, order: byteOrder, path: path, base: base)
    if bytes.count % entrySize != 0 {
      try problems.report(
        r.error(.badCount, "\(bytes.count) bytes is not a whole number of 16-byte entries", at: 0))
    }
    var out: [KHOScratchArea] = []
    out.reserveCapacity(bytes.count / entrySize)
    for i in 0..<bytes.count / entrySize {
      let at = r.offset
      let area = KHOScratchArea(address: PhysAddr(try r.u64()), size: try r.u64())
      guard area.address.advanced(by: area.size) != nil || area.address.rawValue &+ area.size == 0 else {
        r.path = path.index(i)
        try problems.report(r.error(.outOfRange, "area \(area) runs past the top of 64-bit memory", at: at))
        r.path = path
        continue
      }
      out.append(area)
    }
    return out
  }

  /// Decodes the array of `length` bytes at `address` in `memory`.
  public static func decode(
    from memory: any PhysicalMemory, at address: PhysAddr, length: Int,
    path: DecodePath = "/scratch"
  ) throws(DecodeError) -> [KHOScratchArea] {
    let bytes = try memory.bytes(at: address, count: length, path: path)
    return try decode(bytes, byteOrder: memory.geometry.byteOrder, path: path, base: address)
  }

  /// The array's bytes.
  public static func encode(_ areas: [KHOScratchArea], byteOrder: ByteOrder = .little) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(areas.count * entrySize)
    for a in areas {
      for v in [a.address.rawValue, a.size] {
        withUnsafeBytes(of: byteOrder == .little ? v.littleEndian : v.bigEndian) {
          out.append(contentsOf: $0)
        }
      }
    }
    return out
  }
}

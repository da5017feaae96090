// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Builds a payload struct's bytes in the image's byte order, for encoders.
struct _PayloadWriter {
  let order: ByteOrder
  private(set) var bytes: [UInt8] = []

  init(_ order: ByteOrder) { self.order = order }

  mutating func int<T: FixedWidthInteger>(_ v: T) {
    let x = order == .little ? v.littleEndian : v.bigEndian
    withUnsafeBytes(of: x) { bytes.append(contentsOf: $0) }
  }
  mutating func u8(_ v: UInt8) { bytes.append(v) }
  mutating func u16(_ v: UInt16) { int(v) }
  mutating func u32(_ v: UInt32) { int(v) }
  mutating func u64(_ v: UInt64) { int(v) }
  mutating func raw(_ b: [UInt8]) { bytes += b }
  mutating func zeros(_ n: Int) { bytes += repeatElement(0, count: n) }

  /// A `kho_vmalloc` descriptor.
  mutating func descriptor(_ d: VMallocDescriptor) {
    u64(d.first.rawValue)
    u32(d.totalPages)
    u16(d.flags)
    u16(d.order)
  }

  /// A folio entry (`pfn:52 | flags:12`, `index`).
  mutating func folio(_ f: MemfdFolio) {
    u64(f.packed(order))
    u64(f.index)
  }
}

/// Checks an encoder's folio entries fit their fields.
func _checkFolios(_ folios: [MemfdFolio], path: DecodePath) throws(EncodeError) {
  for (i, f) in folios.enumerated() where f.pfn > MemfdFolio.maxPFN || f.flags > MemfdFolio.maxFlags {
    throw EncodeError(
      .outOfRange, "folio pfn 0x\(String(f.pfn, radix: 16)) or flags \(f.flags) does not fit 52/12 bits",
      path: path.index(i))
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// One `struct memfd_luo_folio_ser` (16 bytes): a folio of the file.
///
/// The first u64 packs the folio's page frame number (52 bits) and flags
/// (12 bits) as the C bit-fields `u64 pfn:52; u64 flags:12;` lay them out:
/// on little-endian the PFN is the low 52 bits. The second u64 is the
/// folio's page offset in the file. The folio's order is not stored; it is
/// in the KHO preserved-memory map.
public struct MemfdFolio: Hashable, Sendable, Codable {
  /// `MEMFD_LUO_FOLIO_DIRTY`.
  public static let dirty: UInt16 = 0x1
  /// `MEMFD_LUO_FOLIO_UPTODATE`.
  public static let uptodate: UInt16 = 0x2
  /// The largest PFN the 52-bit field holds.
  public static let maxPFN: UInt64 = (1 << 52) - 1
  /// The largest value of the 12-bit flags field.
  public static let maxFlags: UInt16 = (1 << 12) - 1

  /// The folio's page frame number; 0 marks an empty slot that readers skip.
  public var pfn: UInt64
  /// The `MEMFD_LUO_FOLIO_*` flags.
  public var flags: UInt16
  /// The page offset of the folio in the file.
  public var index: UInt64

  public init(pfn: UInt64, flags: UInt16, index: UInt64) {
    self.pfn = pfn
    self.flags = flags
    self.index = index
  }

  /// Whether the slot is empty (PFN 0).
  public var isEmpty: Bool { pfn == 0 }

  /// The physical address of the folio's first page.
  public func address(_ geometry: PageGeometry) -> PhysAddr? { PhysAddr.ofPage(pfn, geometry) }

  /// The packed first word in the given byte order's bit-field layout.
  func packed(_ order: ByteOrder) -> UInt64 {
    order == .little
      ? (UInt64(flags) << 52) | (pfn & Self.maxPFN)
      : ((pfn & Self.maxPFN) << 12) | UInt64(flags & Self.maxFlags)
  }

  /// Unpacks the first word.
  init(packed word: UInt64, index: UInt64, order: ByteOrder) {
    if order == .little {
      self.init(pfn: word & Self.maxPFN, flags: UInt16(truncatingIfNeeded: word >> 52), index: index)
    } else {
      self.init(pfn: word >> 12, flags: UInt16(truncatingIfNeeded: word & 0xfff), index: index)
    }
  }
}

/// What a preserved memfd holds: the model that every memfd version
/// decodes into and encodes from.
public struct MemfdState: Hashable, Sendable {
  /// Every seal bit memfd-v2 preserves (`MEMFD_LUO_ALL_SEALS`): `F_SEAL_SEAL`,
  /// `SHRINK`, `GROW`, `WRITE`, `FUTURE_WRITE`, `EXEC`.
  public static let allSeals: UInt32 = 0x3f

  /// The file position at freeze time.
  public var pos: UInt64
  /// The file size in bytes.
  public var size: UInt64
  /// The `F_SEAL_*` bits (memfd-v2; 0 in memfd-v1).
  public var seals: UInt32
  /// The flags word of memfd-v2 (must be 0).
  public var flags: UInt32
  /// The folio entries, in array order (`nr_folios` of them).
  public var folios: [MemfdFolio]

  public init(pos: UInt64 = 0, size: UInt64, seals: UInt32 = 0, flags: UInt32 = 0, folios: [MemfdFolio] = []) {
    self.pos = pos
    self.size = size
    self.seals = seals
    self.flags = flags
    self.folios = folios
  }
}

/// A memfd decoded from memory: its state and where its parts are.
public struct MemfdDecoded: Sendable {
  /// The version it was decoded as.
  public var version: MemfdVersion
  /// The physical address of `struct memfd_luo_ser`.
  public var address: PhysAddr
  /// The decoded state.
  public var state: MemfdState
  /// The vmalloc area holding the folio array.
  public var folioArray: VMallocArea

  public init(version: MemfdVersion, address: PhysAddr, state: MemfdState, folioArray: VMallocArea) {
    self.version = version
    self.address = address
    self.state = state
    self.folioArray = folioArray
  }
}

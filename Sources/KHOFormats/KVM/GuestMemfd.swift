// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A preserved guest_memfd (`guest_memfd_luo_v1`): `struct guest_memfd_luo_ser`.
///
/// | off | size | field |
/// |---|---|---|
/// | 0 | 8 | `size` (bytes; non-zero, page aligned) |
/// | 8 | 8 | `flags` (bit 0 MMAP, bit 1 INIT_SHARED) |
/// | 16 | 8 | `nr_folios` |
/// | 24 | 8 | `vm_token`: the `kvm_vm_luo_v1` file of the same session |
/// | 32 | 16 | `folios`: ``VMallocDescriptor`` → `nr_folios` folio entries |
public struct GuestMemfdPayload: PayloadState, Hashable {
  /// `GUEST_MEMFD_LUO_FLAG_MMAP`.
  public static let flagMmap: UInt64 = 0x1
  /// `GUEST_MEMFD_LUO_FLAG_INIT_SHARED`.
  public static let flagInitShared: UInt64 = 0x2
  /// `GUEST_MEMFD_LUO_FOLIO_UPTODATE` in a folio entry's flags.
  public static let folioUptodate: UInt16 = 0x1

  public var size: UInt64
  public var flags: UInt64
  public var vmToken: UInt64
  /// The folio entries (order 0), `nr_folios` of them.
  public var folios: [MemfdFolio]
  /// The array's descriptor as read (the encoder writes its own).
  public var folioArray: VMallocDescriptor = .empty

  public init(size: UInt64, flags: UInt64, vmToken: UInt64, folios: [MemfdFolio]) {
    self.size = size
    self.flags = flags
    self.vmToken = vmToken
    self.folios = folios
  }

  /// Bytes of guest memory the folios hold (order 0 each, empty slots skipped).
  public func preservedBytes(_ g: PageGeometry) -> UInt64 {
    UInt64(folios.filter { !$0.isEmpty }.count) * g.pageSize64
  }

  public var fields: PayloadValue {
    .object([
      ("size", .int(size)), ("flags", .hex(flags)), ("nr_folios", .int(UInt64(folios.count))),
      ("vm_token", .hex(vmToken)), ("folios", .vmalloc(folioArray, entries: folios.map(PayloadValue.folio))),
    ])
  }
}

/// The `guest_memfd_luo_v1` file handler's codec.
public enum GuestMemfd: PayloadCodec {
  public static let compatible = "guest_memfd_luo_v1"
  /// The size of `struct guest_memfd_luo_ser`.
  public static let serSize = 48
  public static var names: [(String, PayloadHost)] { [(compatible, .file)] }

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError)
    -> DecodedPayload
  {
    let g = c.geometry
    var r = try _PayloadArrays.header(c, size: serSize)
    let size = try r.u64()
    let flags = try r.u64()
    let nr = try r.u64()
    let vmToken = try r.u64()
    let descriptor = try VMallocDescriptor(reading: &r)
    if flags & ~(GuestMemfdPayload.flagMmap | GuestMemfdPayload.flagInitShared) != 0 {
      try problems.report(
        r.error(.unsupported, "flags 0x\(String(flags, radix: 16)) has bits guest_memfd_luo_v1 does not define", at: 8))
    }
    if size == 0 || size & g.pageMask != 0 {
      try problems.report(
        r.error(.outOfRange, "size \(size) is zero or not page aligned; the next kernel refuses it", at: 0))
    }
    var refs = [PayloadReference(.metadata, c.address, path: c.path, what: "guest_memfd_luo_ser")]
    let folioPath = c.path.appending("folios")
    var ar = try _PayloadArrays.read(
      descriptor, declared: nr, entrySize: 16, countName: "nr_folios", memory: c.memory, path: folioPath,
      descriptorAddress: c.address.advanced(by: 32), countAddress: c.address.advanced(by: 16),
      what: "guest_memfd folio", problems: &problems, references: &refs)
    let folios = try _PayloadArrays.folios(&ar, count: ar.remaining / 16)
    try _FolioChecks.check(
      folios, fileSize: size, order: 0, path: folioPath, geometry: g, problems: &problems, references: &refs,
      what: "guest memory folio")
    var state = GuestMemfdPayload(size: size, flags: flags, vmToken: vmToken, folios: folios)
    state.folioArray = descriptor
    return DecodedPayload(
      compatible: c.compatible, format: compatible, address: c.address, state: state, references: refs)
  }

  /// Writes `state` as the handler does; returns the address for the file's `data`.
  public static func encode(_ state: GuestMemfdPayload, into w: inout PayloadWriter, path: DecodePath = .root)
    throws(EncodeError) -> PhysAddr
  {
    let d = try w.folioArray(state.folios, path: path.appending("folios"))
    var s = _PayloadWriter(w.order)
    s.u64(state.size)
    s.u64(state.flags)
    s.u64(UInt64(state.folios.count))
    s.u64(state.vmToken)
    s.descriptor(d)
    return try w.place(s)
  }
}

extension GuestMemfdPayload {
  public func summary(_ g: PageGeometry) -> String {
    "\(formatBytes(size)), \(folios.count) folio\(folios.count == 1 ? "" : "s") (\(formatBytes(preservedBytes(g))) preserved), VM token 0x\(String(vmToken, radix: 16))"
  }
}

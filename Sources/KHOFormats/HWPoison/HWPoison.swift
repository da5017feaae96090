// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The `hwpoison` sub-blob: PFNs of memory the old kernel found poisoned.
///
/// Two forms. H-raw: `struct kho_hwpoison_metadata` (32 bytes) — `u32
/// version` (1), `u32 _pad`, `u64 count`, `kho_vmalloc pfns` → u64 PFNs.
/// H-fdt: a sub-FDT with `compatible = "hwpoison-v1"` and properties
/// `count` (8, native u64) and `pfns` (16, the raw descriptor). Only the
/// first `count` PFNs are valid; the array's tail is not zeroed.
public struct HWPoisonPayload: PayloadState, Hashable {
  public enum Form: String, Sendable, Hashable {
    case raw = "H-raw"
    case fdt = "H-fdt"
  }
  /// `KHO_HWPOISON_METADATA_VERSION`.
  public static let version: UInt32 = 1

  public var form: Form
  public var pfns: [UInt64]
  public var pfnArray: VMallocDescriptor = .empty

  public init(form: Form, pfns: [UInt64]) {
    self.form = form
    self.pfns = pfns
  }

  public var fields: PayloadValue {
    var out: [(String, PayloadValue)] = []
    if form == .raw { out.append(("version", .int(UInt64(Self.version)))) }
    out.append(("count", .int(UInt64(pfns.count))))
    out.append(("pfns", .vmalloc(pfnArray, entries: pfns.map { .hex($0) })))
    return .object(out)
  }
}

/// The `hwpoison` sub-node codec.
public enum HWPoison: PayloadCodec {
  public static let nodeName = "hwpoison"
  public static let fdtCompatible = "hwpoison-v1"
  public static let rawSize = 32
  public static var names: [(String, PayloadHost)] { [(nodeName, .subnode)] }

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError)
    -> DecodedPayload
  {
    let order = c.geometry.byteOrder
    var refs = [PayloadReference(.metadata, c.address, path: c.path, what: "hwpoison metadata")]
    let form: HWPoisonPayload.Form
    let count: UInt64
    let descriptor: VMallocDescriptor
    var descriptorAddress: PhysAddr? = nil
    var countAddress: PhysAddr? = nil
    if _PayloadFDT.isFDT(c) {
      form = .fdt
      let fdt = try _PayloadFDT.read(c)
      try _PayloadFDT.checkCompatible(fdt, fdtCompatible, c, &problems)
      guard let cp = fdt.root.property("count"), let n = cp.u64(order) else {
        throw DecodeError(.badCount, "count is missing or not 8 bytes", path: c.path, address: c.address)
      }
      guard let pp = fdt.root.property("pfns"), pp.length == VMallocDescriptor.size else {
        throw DecodeError(.badCount, "pfns is missing or not a 16-byte kho_vmalloc", path: c.path, address: c.address)
      }
      var r = ByteReader(pp.value, order: order, path: c.path)
      count = n
      descriptor = try VMallocDescriptor(reading: &r)
    } else {
      form = .raw
      var r = try _PayloadArrays.header(c, size: rawSize)
      let version = try r.u32()
      if version != HWPoisonPayload.version {
        throw r.error(.unknownVersion, "version \(version); hwpoison metadata version 1 is the only one", at: 0)
      }
      _ = try r.u32()
      count = try r.u64()
      descriptor = try VMallocDescriptor(reading: &r)
      descriptorAddress = c.address.advanced(by: 16)
      countAddress = c.address.advanced(by: 8)
    }
    var ar = try _PayloadArrays.read(
      descriptor, declared: count, entrySize: 8, countName: "count", memory: c.memory, path: c.path.appending("pfns"),
      descriptorAddress: descriptorAddress, countAddress: countAddress, what: "hwpoison PFN",
      problems: &problems, references: &refs, emptyMayKeepArray: true)
    var pfns: [UInt64] = []
    while ar.remaining >= 8 { pfns.append(try ar.u64()) }
    var s = HWPoisonPayload(form: form, pfns: pfns)
    s.pfnArray = descriptor
    return DecodedPayload(
      compatible: c.compatible, format: form == .raw ? "hwpoison v1 (raw)" : fdtCompatible, address: c.address,
      state: s, references: refs)
  }

  /// Writes the PFN array and the metadata in `form`; returns the blob and its size.
  public static func encode(_ state: HWPoisonPayload, into w: inout PayloadWriter) throws(EncodeError) -> (
    address: PhysAddr, size: UInt64
  ) {
    var array = _PayloadWriter(w.order)
    for p in state.pfns { array.u64(p) }
    let d = try w.array(array.bytes, path: "/hwpoison/pfns")
    var b = _PayloadWriter(w.order)
    switch state.form {
    case .raw:
      b.u32(HWPoisonPayload.version)
      b.u32(0)
      b.u64(UInt64(state.pfns.count))
      b.descriptor(d)
    case .fdt:
      var dd = _PayloadWriter(w.order)
      dd.descriptor(d)
      let dtb = try FDTBuilder.build(
        DeviceTreeNode(
          "",
          properties: [
            .string("compatible", fdtCompatible), .u64("count", UInt64(state.pfns.count), w.order),
            DeviceTreeProperty("pfns", dd.bytes),
          ]))
      b.raw(dtb)
    }
    let size = UInt64(b.bytes.count)
    return (try w.place(b), size)
  }
}

extension HWPoisonPayload {
  public func summary(_ g: PageGeometry) -> String {
    "\(pfns.count) poisoned page\(pfns.count == 1 ? "" : "s")"
  }
}

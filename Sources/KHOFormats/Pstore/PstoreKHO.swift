// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The `pstore-kho` sub-node: one dmesg record handed to the next kernel.
///
/// PS-fdt: a sub-FDT (`compatible = "pstore-kho-v1"`) whose
/// `pstore_kho_record` property (native u64) points at a kernel-native
/// record: `ssize_t size`@0, `tv_sec`@8, `tv_nsec`@16, `int count`@24,
/// `enum reason`@28, `unsigned part`@32, `bool compressed`@36, buffer@37.
/// PS-raw: `struct pstore_ser {u32 version (1); record}` with the record at
/// 8: `s64 size`@8, `s64 time_sec`@16, `u32 time_nsec`@24, `s32 count`@28,
/// `u32 reason`@32, `u32 part`@36, `u32 compressed`@40, buffer@44.
public struct PstorePayload: PayloadState, Hashable {
  public enum Form: String, Sendable, Hashable {
    case fdt = "PS-fdt"
    case raw = "PS-raw"
  }

  public var form: Form
  /// PS-fdt: where the record is.
  public var record: PhysAddr = .zero
  public var size: Int64
  public var timeSec: Int64
  public var timeNsec: UInt32
  public var count: Int32
  public var reason: UInt32
  public var part: UInt32
  public var compressed: Bool
  /// The first bytes of the buffer (at most 256), for a preview.
  public var preview: [UInt8] = []

  public init(
    form: Form, size: Int64, timeSec: Int64, timeNsec: UInt32, count: Int32, reason: UInt32, part: UInt32,
    compressed: Bool
  ) {
    self.form = form
    self.size = size
    self.timeSec = timeSec
    self.timeNsec = timeNsec
    self.count = count
    self.reason = reason
    self.part = part
    self.compressed = compressed
  }

  public var fields: PayloadValue {
    var out: [(String, PayloadValue)] = []
    if form == .raw {
      out.append(("version", .int(1)))
    } else {
      out.append(("pstore_kho_record", .hex(record.rawValue)))
    }
    out += [
      ("size", .signed(size)), ("time_sec", .signed(timeSec)), ("time_nsec", .int(UInt64(timeNsec))),
      ("count", .signed(Int64(count))), ("reason", .int(UInt64(reason))), ("part", .int(UInt64(part))),
      ("compressed", .bool(compressed)), ("preview", .string(String(decoding: preview, as: UTF8.self))),
    ]
    return .object(out)
  }
}

/// The `pstore-kho` sub-node codec.
public enum PstoreKHO: PayloadCodec {
  public static let nodeName = "pstore-kho"
  public static let fdtCompatible = "pstore-kho-v1"
  public static var names: [(String, PayloadHost)] { [(nodeName, .subnode)] }

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError)
    -> DecodedPayload
  {
    let order = c.geometry.byteOrder
    var refs = [PayloadReference(.metadata, c.address, path: c.path, what: "pstore sub-blob")]
    var s: PstorePayload
    let bufferAt: PhysAddr?
    let capacity: Int
    if _PayloadFDT.isFDT(c) {
      let fdt = try _PayloadFDT.read(c)
      try _PayloadFDT.checkCompatible(fdt, fdtCompatible, c, &problems)
      guard let p = fdt.root.property("pstore_kho_record"), let v = p.u64(order) else {
        throw DecodeError(.missing, "no 8-byte pstore_kho_record property", path: c.path, address: c.address)
      }
      let rec = PhysAddr(v)
      let rp = c.path.appending("pstore_kho_record")
      let r = try c.memory.reader(at: rec, count: 37, path: rp)
      s = PstorePayload(
        form: .fdt, size: try r.integer(at: 0), timeSec: try r.integer(at: 8),
        timeNsec: UInt32(truncatingIfNeeded: try r.integer(at: 16, as: Int64.self)),
        count: try r.integer(at: 24), reason: try r.integer(at: 28), part: try r.integer(at: 32),
        compressed: try r.integer(at: 36, as: UInt8.self) != 0)
      s.record = rec
      bufferAt = rec.advanced(by: 37)
      capacity = c.allocationBytes(at: rec) - 37
      refs.append(PayloadReference(.metadata, rec, path: rp, what: "pstore record"))
    } else {
      let r = try _PayloadArrays.header(c, size: 44)
      let version = try r.integer(at: 0, as: UInt32.self)
      guard version == 1 else {
        throw r.error(.unknownVersion, "version \(version); pstore_ser version 1 is the only one", at: 0)
      }
      s = PstorePayload(
        form: .raw, size: try r.integer(at: 8), timeSec: try r.integer(at: 16), timeNsec: try r.integer(at: 24),
        count: try r.integer(at: 28), reason: try r.integer(at: 32), part: try r.integer(at: 36),
        compressed: try r.integer(at: 40, as: UInt32.self) != 0)
      bufferAt = c.address.advanced(by: 44)
      capacity = c.allocationBytes(at: c.address) - 44
    }
    if s.size < 0 || s.size > Int64(capacity) {
      try problems.report(
        DecodeError(
          .truncated, "record size \(s.size) does not fit the \(capacity) bytes of its allocation", path: c.path,
          address: c.address))
    } else if let bufferAt, s.size > 0 {
      s.preview = (try? c.memory.bytes(at: bufferAt, count: Int(Swift.min(s.size, 256))).array) ?? []
    }
    return DecodedPayload(
      compatible: c.compatible, format: s.form == .fdt ? fdtCompatible : "pstore_ser v1 (raw)", address: c.address,
      state: s, references: refs)
  }
}

extension PstorePayload {
  public func summary(_ g: PageGeometry) -> String {
    "dmesg record of \(size) bytes, reason \(reason), part \(part)\(compressed ? ", compressed" : "")"
  }
}

extension PstoreKHO {
  /// Writes the record (with `text` as its buffer) in `state.form`; returns
  /// the sub-blob and its size. `size` is taken from `text`.
  public static func encode(_ state: PstorePayload, text: [UInt8], into w: inout PayloadWriter) throws(EncodeError)
    -> (address: PhysAddr, size: UInt64)
  {
    var r = _PayloadWriter(w.order)
    switch state.form {
    case .raw:
      r.u32(1)
      r.u32(0)
      r.u64(UInt64(text.count))
      r.u64(UInt64(bitPattern: state.timeSec))
      r.u32(state.timeNsec)
      r.u32(UInt32(bitPattern: state.count))
      r.u32(state.reason)
      r.u32(state.part)
      r.u32(state.compressed ? 1 : 0)
      r.raw(text)
      let size = UInt64(r.bytes.count)
      return (try w.place(r), size)
    case .fdt:
      r.u64(UInt64(text.count))
      r.u64(UInt64(bitPattern: state.timeSec))
      r.u64(UInt64(state.timeNsec))
      r.u32(UInt32(bitPattern: state.count))
      r.u32(state.reason)
      r.u32(state.part)
      r.u8(state.compressed ? 1 : 0)
      r.raw(text)
      let record = try w.place(r)
      let dtb = try FDTBuilder.build(
        DeviceTreeNode(
          "", properties: [.string("compatible", fdtCompatible), .u64("pstore_kho_record", record.rawValue, w.order)]))
      var b = _PayloadWriter(w.order)
      b.raw(dtb)
      return (try w.place(b), UInt64(dtb.count))
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Byte-level helpers for the LUO entry structs (§6.1).
enum LUOEntries {
  /// Appends `s` as a NUL-padded field of `size` bytes (the caller checked the length).
  static func appendString(_ out: inout [UInt8], _ s: String, size: Int) {
    let utf8 = Array(s.utf8.prefix(size - 1))
    out.append(contentsOf: utf8)
    out.append(contentsOf: repeatElement(0, count: size - utf8.count))
  }

  static func appendU64(_ out: inout [UInt8], _ v: UInt64, _ order: ByteOrder) {
    let raw = order == .little ? v.littleEndian : v.bigEndian
    withUnsafeBytes(of: raw) { out.append(contentsOf: $0) }
  }

  /// `struct luo_session_ser`: name[64], files u64, count u64.
  static func session(_ name: String, files: PhysAddr, count: Int, _ order: ByteOrder) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(LUOLimits.sessionEntrySize)
    appendString(&out, name, size: LUOLimits.sessionNameLength)
    appendU64(&out, files.rawValue, order)
    appendU64(&out, UInt64(count), order)
    return out
  }

  /// `struct luo_file_ser`: compatible[48], data u64, token u64.
  static func file(_ f: LUOFile, _ order: ByteOrder) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(LUOLimits.fileEntrySize)
    appendString(&out, f.compatible, size: LUOLimits.fileCompatibleLength)
    appendU64(&out, f.data.rawValue, order)
    appendU64(&out, f.token, order)
    return out
  }

  /// `struct luo_flb_ser`: name[48], data u64, count u64.
  static func flb(_ f: LUOFLB, _ order: ByteOrder) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(LUOLimits.flbEntrySize)
    appendString(&out, f.name, size: LUOLimits.flbNameLength)
    appendU64(&out, f.data, order)
    appendU64(&out, f.count, order)
    return out
  }

  /// Reads a fixed string field; in lenient mode a bad field is reported and
  /// read as far as it goes.
  static func string(
    _ r: inout ByteReader, size: Int, _ problems: inout DecodeProblems
  ) throws(DecodeError) -> String {
    let start = r.offset
    do {
      return try r.cString(fixedSize: size)
    } catch {
      try problems.report(error)
      try r.seek(to: start)
      let raw = try r.bytes(count: size).array
      let end = raw.firstIndex(of: 0) ?? raw.count
      return String(decoding: raw[..<end], as: UTF8.self)
    }
  }
}

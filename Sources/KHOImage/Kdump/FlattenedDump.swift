// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// makedumpfile's flattened format, read by reassembling it.
///
/// `makedumpfile -F` (and QEMU before 8.2 for its kdump formats) writes a
/// dump that can go down a pipe: a 4096-byte header that starts with
/// `makedumpfile` and holds big-endian `type` = 1 and `version` = 1 at 16
/// and 24, then records of a big-endian signed 64-bit file offset, a
/// big-endian signed 64-bit size and that many bytes, ended by a record
/// whose offset is −1. Writing each record at its offset gives the
/// kdump-compressed file (`makedumpfile -R` does the same).
enum FlattenedDump {
  static let signature = Array("makedumpfile".utf8)
  static let headerSize = 4096

  /// Whether `bytes` starts with the flattened-format signature.
  static func isFlattened(_ bytes: Bytes) -> Bool {
    bytes.count >= 16 && (0..<16).allSatisfy { i in bytes.byte(at: i) == (i < 12 ? signature[i] : 0) }
  }

  /// Writes every record at its offset into a sparse temporary file and
  /// maps the result: memory stays one record's worth however large the
  /// dump. Refuses offsets or sizes that are negative, pass `limit` or the
  /// input, and a stream without its end record.
  static func reassemble(_ input: _MappedFile, limit: Int, name: String) throws(DecodeError) -> _MappedFile {
    let b = input.bytes
    let r = ByteReader(b, order: .big, path: "/flattened")
    let type: Int64 = try r.integer(at: 16)
    let version: Int64 = try r.integer(at: 24)
    guard type == 1 else { throw r.error(.unsupported, "flattened header type \(type) is not 1", at: 16) }
    guard version == 1 else { throw r.error(.unsupported, "flattened header version \(version) is not 1", at: 24) }
    let out = try _SparseTempFile()
    var at = headerSize
    var released = 0
    var records = 0
    while true {
      guard at <= b.count - 16 else {
        throw r.error(.truncated, "the flattened stream ends without its end record after \(records) records", at: at)
      }
      let offset: Int64 = try r.integer(at: at)
      let size: Int64 = try r.integer(at: at + 8)
      if offset == -1 { break }
      guard offset >= 0, size >= 0, offset <= Int64(limit), size <= Int64(limit) - offset else {
        throw r.error(
          .outOfRange, "record \(records) puts \(size) bytes at offset \(offset), outside [0, \(limit))", at: at)
      }
      guard let data = b.extracting(at + 16, count: Int(size)) else {
        throw r.error(.truncated, "record \(records) holds \(size) bytes but the input ends first", at: at + 8)
      }
      if records == 0, offset == 0, data.count >= 8, !DiskdumpHeader.hasSignature(data) {
        throw r.error(.badMagic, "the flattened stream does not hold a kdump-compressed dump", at: at + 16)
      }
      try data.withUnsafeBytes { p throws(DecodeError) in try out.write(p, at: Int(offset)) }
      at += 16 + Int(size)
      records += 1
      if at - released >= 64 << 20 {
        input.release(upTo: at)
        released = at
      }
    }
    return try out.finish(name: name)
  }
}

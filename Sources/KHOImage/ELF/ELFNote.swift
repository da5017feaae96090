// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// One ELF note (`Elf64_Nhdr` + name + descriptor).
public struct ELFNote: Hashable, Sendable {
  public var name: String
  public var type: UInt32
  public var descriptor: [UInt8]

  public init(name: String, type: UInt32, descriptor: [UInt8]) {
    self.name = name
    self.type = type
    self.descriptor = descriptor
  }

  /// The descriptor read as `KEY=value` lines (VMCOREINFO style).
  public var keyValues: [String: String] {
    var out: [String: String] = [:]
    let text = String(decoding: descriptor.prefix { $0 != 0 }, as: UTF8.self)
    for line in text.split(separator: "\n") {
      guard let eq = line.firstIndex(of: "=") else { continue }
      out[String(line[..<eq])] = String(line[line.index(after: eq)...])
    }
    return out
  }

  /// The most notes read from one segment.
  public static let maxNotes = 4096

  /// Parses the notes of one `PT_NOTE` segment.
  static func parse(_ data: Bytes, order: ByteOrder, path: DecodePath) throws(DecodeError) -> [ELFNote] {
    var r = ByteReader(data, order: order, path: path)
    var out: [ELFNote] = []
    while r.remaining >= 12 {
      guard out.count < maxNotes else {
        throw r.error(.limitExceeded, "more than \(maxNotes) notes in one segment")
      }
      let namesz = Int(try r.u32())
      let descsz = Int(try r.u32())
      let type = try r.u32()
      let rawName = try r.bytes(count: namesz).array
      try r.skip((4 - namesz % 4) % 4)
      let desc = try r.bytes(count: descsz).array
      try r.skip(Swift.min((4 - descsz % 4) % 4, r.remaining))
      let name = String(decoding: rawName.prefix { $0 != 0 }, as: UTF8.self)
      out.append(ELFNote(name: name, type: type, descriptor: desc))
    }
    return out
  }
}

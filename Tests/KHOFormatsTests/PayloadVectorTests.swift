// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import Testing

@testable import KHOFormats

/// Payload golden vectors: decoded field for field, re-encoded byte for byte.
/// `KHO_WRITE_VECTORS=1` rewrites them after a deliberate change.
@Suite("Payload golden vectors")
struct PayloadVectorTests {
  static let writing = ProcessInfo.processInfo.environment["KHO_WRITE_VECTORS"] == "1"

  func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

  @Test("vector decodes to its payload and re-encodes to its bytes", arguments: PayloadVectors.cases.map(\.name))
  func vector(name: String) throws {
    let c = try #require(PayloadVectors.cases.first { $0.name == name })
    let built = try PayloadVectors.build(c)
    let g = built.image.geometry
    var pages: [[String]] = []
    var bin: [UInt8] = []
    for pfn in built.image.pageNumbers {
      let a = PhysAddr(pfn << UInt64(g.pageShift))
      let bytes = try built.image.bytes(at: a, count: g.pageSize).array
      let used = (bytes.lastIndex { $0 != 0 } ?? -1) + 1
      pages.append([hex(a.rawValue), String(used)])
      bin += bytes[..<used]
    }
    let decodedFromBuild = try #require(
      try Payloads.decode(PayloadVectors.context(built.image, c, built.address, built.size, built.writer.preserved)))
    let base = vectorURL("payloads").appendingPathComponent(name)
    if Self.writing {
      try FileManager.default.createDirectory(at: vectorURL("payloads"), withIntermediateDirectories: true)
      let file = PayloadVectors.File(
        compatible: c.compatible, host: c.host.rawValue, address: hex(built.address.rawValue), size: built.size,
        pageSize: g.pageSize, byteOrder: g.byteOrder.rawValue, pages: pages,
        preserved: built.writer.preserved.map { [hex($0.phys.rawValue), String($0.order)] },
        payload: decodedFromBuild.fields)
      let e = JSONEncoder()
      e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
      try e.encode(file).write(to: base.appendingPathExtension("json"))
      try Data(bin).write(to: base.appendingPathExtension("bin"))
    }
    let d = JSONDecoder()
    let file = try d.decode(PayloadVectors.File.self, from: Data(contentsOf: base.appendingPathExtension("json")))
    let committed = try Array(Data(contentsOf: base.appendingPathExtension("bin")))
    // Re-encoding gives the committed bytes.
    #expect(bin == committed, "\(name): encoder output differs from the vector")
    #expect(pages == file.pages)
    // The committed bytes decode to the committed payload.
    let image = PhysicalImage()
    var at = 0
    for p in file.pages {
      let a = PhysAddr(UInt64(p[0].dropFirst(2), radix: 16) ?? 0)
      let n = Int(p[1]) ?? 0
      image.zeroPage(a.pfn(image.geometry))
      image.write(committed[at..<at + n], at: a)
      at += n
    }
    let preserved = file.preserved.map {
      PreservedEntry(PhysAddr(UInt64($0[0].dropFirst(2), radix: 16) ?? 0), order: Int($0[1]) ?? 0)
    }
    let address = PhysAddr(UInt64(file.address.dropFirst(2), radix: 16) ?? 0)
    let decoded = try #require(try Payloads.decode(PayloadVectors.context(image, c, address, file.size, preserved)))
    #expect(try PayloadVectors.json(decoded.fields) == PayloadVectors.json(file.payload))
    #expect(try PayloadVectors.json(decoded.fields) == PayloadVectors.json(decodedFromBuild.fields))
    #expect(file.compatible == c.compatible && file.host == c.host.rawValue)
  }
}

/// The FuzzPayloads seeds (made by Specs/vectors/payloads/fuzz-seeds.py)
/// name the registry entry of their vector and decode clean.
@Suite("Payload fuzz seeds")
struct PayloadSeedTests {
  @Test("every payload seed selects its vector's string and decodes clean")
  func seeds() throws {
    let dir = repoRoot.appendingPathComponent("Fuzz/Corpus/FuzzPayloads")
    let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil).filter {
      $0.pathExtension == "bin"
    }
    #expect(files.count >= PayloadVectors.cases.count - 2)
    for url in files {
      let name = url.deletingPathExtension().lastPathComponent
      let c = try #require(PayloadVectors.cases.first { $0.name == name }, "\(name)")
      let data = Array(try Data(contentsOf: url))
      let (string, host) = Payloads.registered[Int(data[0]) % Payloads.registered.count]
      #expect(string == c.compatible && host == c.host, "\(name): selector names \(string)")
      let json = try JSONDecoder().decode(
        PayloadVectors.File.self, from: Data(contentsOf: vectorURL("payloads").appendingPathComponent("\(name).json")))
      let address = PhysAddr(0x1_0000_0000 + UInt64(data[1] & 0x3f) * 4096)
      #expect(address.description == json.address, "\(name)")
    }
  }
}

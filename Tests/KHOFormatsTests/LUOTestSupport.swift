// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import KHOFormats

/// A small deterministic generator (SplitMix64) for building test states from a seed.
struct LUOTestRNG {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
  mutating func int(_ range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(next() % UInt64(range.count))
  }
  mutating func name(length: Int) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789-_.")
    return String((0..<length).map { _ in alphabet[int(0...alphabet.count - 1)] })
  }
}

/// Builders and helpers shared by the LUO, block, memfd and vmalloc tests.
enum LUOTestSupport {
  static let base: PhysAddr = 0x1_0000_0000

  static func allocator(_ g: PageGeometry = .x86_64, start: PhysAddr = base, pages: UInt64 = 1 << 20)
    -> PageAllocator
  {
    PageAllocator(start: start, pages: pages, geometry: g)
  }

  /// A representative small state: three sessions (one empty), four files, one FLB.
  static func sampleState() -> LUOState {
    LUOState(
      liveUpdateNumber: 3,
      sessions: [
        LUOSession(
          name: "vm-0",
          files: [
            LUOFile(compatible: "memfd-v1", token: 1, data: 0x2_0000_0000),
            LUOFile(compatible: "memfd-v1", token: 2, data: 0x2_0000_1000),
          ]),
        LUOSession(name: "vm-1"),
        LUOSession(
          name: "agent",
          files: [
            LUOFile(compatible: "memfd-v2", token: 0x1000, data: 0x2_0000_2000),
            LUOFile(compatible: "guest_memfd-v1", token: 7, data: 0x2_0000_3000),
          ]),
      ],
      flbs: [LUOFLB(name: "liveupdate-test-flb-v1", data: 0x2_0000_4000, count: 2)])
  }

  /// A random state from `seed` in one of four shapes: 0 small, 1 many
  /// sessions (chains of several blocks), 2 one session with many files,
  /// 3 maximum-length names and empty sessions.
  static func randomState(seed: UInt64, shape: Int) -> LUOState {
    var rng = LUOTestRNG(seed: seed)
    let sessionCount: Int
    switch shape {
    case 1: sessionCount = rng.int(52...160)
    case 2: sessionCount = rng.int(1...3)
    case 3: sessionCount = rng.int(1...8)
    default: sessionCount = rng.int(0...6)
    }
    var sessions: [LUOSession] = []
    for i in 0..<sessionCount {
      let nameLength = shape == 3 ? 63 - String(i).count - 1 : rng.int(1...20)
      let name = "\(i)-" + rng.name(length: nameLength)
      var fileCount: Int
      switch shape {
      case 2: fileCount = i == 0 ? rng.int(64...200) : rng.int(0...3)
      case 3: fileCount = i % 2 == 0 ? 0 : rng.int(1...4)
      case 1: fileCount = rng.int(0...2)
      default: fileCount = rng.int(0...8)
      }
      var files: [LUOFile] = []
      var used = Set<UInt64>()
      while files.count < fileCount {
        let token = rng.next() % 100_000
        guard used.insert(token).inserted else { continue }
        let compatible =
          shape == 3 ? rng.name(length: 47) : ["memfd-v1", "memfd-v2;vmalloc-v1", "iommufd-v1"][rng.int(0...2)]
        files.append(LUOFile(compatible: compatible, token: token, data: PhysAddr((rng.next() >> 16) << 12)))
      }
      sessions.append(LUOSession(name: String(name.prefix(63)), files: files))
    }
    var flbs: [LUOFLB] = []
    for i in 0..<rng.int(0...(shape == 3 ? 63 : 3)) {
      let name =
        shape == 3 ? String("flb\(i)-" + rng.name(length: 47)).prefix(47) : Substring("liveupdate-test-flb-v\(i)")
      flbs.append(LUOFLB(name: String(name), data: rng.next(), count: rng.next() % 100))
    }
    return LUOState(liveUpdateNumber: rng.next(), sessions: sessions, flbs: flbs)
  }

  /// Whether two images hold the same pages with the same bytes.
  static func sameContents(_ a: PhysicalImage, _ b: PhysicalImage) -> Bool {
    guard a.pageNumbers == b.pageNumbers else { return false }
    let g = a.geometry
    for pfn in a.pageNumbers {
      guard let addr = PhysAddr.ofPage(pfn, g),
        let pa = try? a.bytes(at: addr, count: g.pageSize),
        let pb = try? b.bytes(at: addr, count: g.pageSize), pa == pb
      else { return false }
    }
    return true
  }

  /// Encodes `state` as `version` into a fresh image.
  static func encode(
    _ state: LUOState, _ version: LUOVersion, _ g: PageGeometry = .x86_64,
    options: LUOEncodeOptions = .init()
  ) throws -> (PhysicalImage, LUOEncoded) {
    let image = PhysicalImage(geometry: g)
    var alloc = allocator(g)
    let enc = try LUO.encode(state, as: version, into: image, allocator: &alloc, options: options)
    return (image, enc)
  }

  /// Overwrites a u64 in the image's byte order.
  static func poke(_ image: PhysicalImage, _ address: PhysAddr?, _ value: UInt64) {
    guard let address else { return }
    image.store(value, at: address)
  }
}

/// Golden vectors: a set of captured pages plus a JSON manifest.
///
/// `Specs/vectors/<format>/<case>.json` lists the geometry, the pages
/// (address and stored length: each page's bytes after `length` are zero,
/// so sparse pages stay small) and case-specific parameters;
/// `<case>.bin` holds the stored bytes of every page in that order.
struct LUOTestVector {
  let geometry: PageGeometry
  let pages: [(address: PhysAddr, bytes: [UInt8])]
  let meta: [String: Any]

  static var directory: URL {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Specs/vectors")
  }

  static var regenerate: Bool { ProcessInfo.processInfo.environment["KHO_WRITE_VECTORS"] == "1" }

  static func load(_ format: String, _ name: String) throws -> LUOTestVector {
    let dir = directory.appendingPathComponent(format)
    let json = try Data(contentsOf: dir.appendingPathComponent(name + ".json"))
    let bin = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name + ".bin")))
    guard let meta = try JSONSerialization.jsonObject(with: json) as? [String: Any],
      let pageSize = meta["page_size"] as? Int,
      let order = (meta["byte_order"] as? String).flatMap(ByteOrder.init(rawValue:)),
      let g = PageGeometry(pageSize: pageSize, byteOrder: order),
      let list = meta["pages"] as? [[String: Any]]
    else { throw CocoaError(.fileReadCorruptFile) }
    var pages: [(PhysAddr, [UInt8])] = []
    var offset = 0
    for p in list {
      guard let a = (p["address"] as? String).flatMap(parseHex), let n = p["length"] as? Int,
        offset + n <= bin.count
      else { throw CocoaError(.fileReadCorruptFile) }
      pages.append((PhysAddr(a), Array(bin[offset..<offset + n])))
      offset += n
    }
    return LUOTestVector(geometry: g, pages: pages, meta: meta)
  }

  /// The pages as an image.
  func image() -> PhysicalImage {
    let image = PhysicalImage(geometry: geometry)
    for (a, b) in pages {
      image.zeroPage(a.pfn(geometry))
      image.write(b, at: a)
    }
    return image
  }

  func hex(_ key: String) -> PhysAddr? {
    (meta[key] as? String).flatMap(parseHex).map { PhysAddr($0) }
  }

  /// Writes `image` and `meta` as a vector (used with KHO_WRITE_VECTORS=1).
  static func save(_ image: PhysicalImage, meta: [String: Any], format: String, name: String) throws {
    let g = image.geometry
    var bin: [UInt8] = []
    var list: [[String: Any]] = []
    for pfn in image.pageNumbers {
      guard let a = PhysAddr.ofPage(pfn, g) else { continue }
      let page = try image.bytes(at: a, count: g.pageSize).array
      let n = (page.lastIndex { $0 != 0 } ?? -1) + 1
      bin += page[..<n]
      list.append(["address": a.description, "length": n])
    }
    var m = meta
    m["page_size"] = g.pageSize
    m["byte_order"] = g.byteOrder.rawValue
    m["pages"] = list
    let dir = directory.appendingPathComponent(format)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let json = try JSONSerialization.data(withJSONObject: m, options: [.prettyPrinted, .sortedKeys])
    try json.write(to: dir.appendingPathComponent(name + ".json"))
    try Data(bin).write(to: dir.appendingPathComponent(name + ".bin"))
  }
}

func parseHex(_ s: String) -> UInt64? {
  s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : UInt64(s)
}

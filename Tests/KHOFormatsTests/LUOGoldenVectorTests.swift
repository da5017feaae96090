// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import Testing

@testable import KHOFormats

/// Golden vectors of block-v1, vmalloc-v1, memfd and every LUO version:
/// each decodes to the expected content and re-encodes, from what was
/// decoded, to the same pages byte for byte. Run with KHO_WRITE_VECTORS=1
/// to write them afresh (then review the diff).
@Suite("golden vectors: block-v1, vmalloc-v1, memfd, LUO")
struct LUOGoldenVectorTests {
  typealias S = LUOTestSupport
  static let allocStart: PhysAddr = 0x1_0000_0000
  static let allocPages: UInt64 = 4096

  static func allocator() -> PageAllocator { PageAllocator(start: allocStart, pages: allocPages) }

  // MARK: Builders (used both to write the vectors and to re-encode them)

  static func buildBlocks(entrySize: Int, entries: [UInt8]) throws -> (PhysicalImage, BlockList.Written) {
    let layout = try #require(BlockLayout(entrySize: entrySize))
    let image = PhysicalImage()
    var alloc = allocator()
    return (image, try BlockList.encode(entries, layout: layout, into: image, allocator: &alloc))
  }

  /// A descriptor page first (the user embedding `kho_vmalloc`), then the area.
  static func buildVMalloc(data: [UInt8]?, runs: [PhysAddr], order: UInt16, flags: UInt16) throws
    -> (PhysicalImage, PhysAddr)
  {
    let image = PhysicalImage()
    var alloc = allocator()
    let holder = try alloc.allocate(in: image)
    let d =
      if let data {
        try VMalloc.encode(data: data, flags: flags, into: image, allocator: &alloc)
      } else {
        try VMalloc.encode(runs: runs, order: order, flags: flags, into: image, allocator: &alloc)
      }
    d.write(to: image, at: holder)
    return (image, holder)
  }

  static func buildMemfd(_ contents: [UInt8], pos: UInt64, seals: UInt32, _ v: MemfdVersion) throws
    -> (PhysicalImage, PhysAddr)
  {
    let image = PhysicalImage()
    var alloc = allocator()
    let (a, _) = try Memfd.encodeFile(contents: contents, pos: pos, seals: seals, as: v, into: image, allocator: &alloc)
    return (image, a)
  }

  static func buildLUO(_ state: LUOState, _ v: LUOVersion, sessions: LUOSessionForm = .v2) throws
    -> (PhysicalImage, LUOEncoded)
  {
    let image = PhysicalImage()
    var alloc = allocator()
    return (image, try LUO.encode(state, as: v, into: image, allocator: &alloc, options: .init(v1Sessions: sessions)))
  }

  /// The sample state without its files: what luo-session-v1 can hold.
  static func namesOnly() -> LUOState {
    var s = S.sampleState()
    for i in s.sessions.indices { s.sessions[i].files = [] }
    return s
  }

  static func fileName(_ s: String) -> String { s.replacingOccurrences(of: ";", with: "_") }

  // MARK: Writing

  @Test(.enabled(if: LUOTestVector.regenerate)) func writeVectors() throws {
    for (size, count) in [(1024, 7), (32, 130)] {
      let entries = BlockListTests.entries(count, size: size)
      let (image, w) = try Self.buildBlocks(entrySize: size, entries: entries)
      try LUOTestVector.save(
        image,
        meta: [
          "format": "block-v1", "entry_size": size, "count": count, "head": w.head.description,
          "entries": "entry i byte k = (i*31 + k*7 + 1) mod 256",
          "alloc_start": Self.allocStart.description,
        ],
        format: "block-v1", name: "e\(size)-n\(count)")
    }
    let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
    var (image, holder) = try Self.buildVMalloc(data: data, runs: [], order: 0, flags: 1)
    try LUOTestVector.save(
      image,
      meta: [
        "format": "vmalloc-v1", "descriptor": holder.description, "data_length": data.count,
        "data": "byte i = (i*13) mod 256", "alloc_start": Self.allocStart.description,
      ],
      format: "vmalloc-v1", name: "data-3pages")
    (image, holder) = try Self.buildVMalloc(data: nil, runs: VMallocTests.runs(511), order: 0, flags: 1)
    try LUOTestVector.save(
      image,
      meta: [
        "format": "vmalloc-v1", "descriptor": holder.description, "run_count": 511,
        "runs": "0x300000000 + i*0x1000 (not captured)", "alloc_start": Self.allocStart.description,
      ],
      format: "vmalloc-v1", name: "runs-511")
    for v in MemfdVersion.allCases {
      let seals: UInt32 = v.hasSeals ? 0x5 : 0
      let (image, a) = try Self.buildMemfd(MemfdTests.contents, pos: 42, seals: seals, v)
      try LUOTestVector.save(
        image,
        meta: [
          "format": v.rawValue, "address": a.description, "pos": 42, "seals": Int(seals),
          "size": MemfdTests.contents.count,
          "contents": "page 0: byte i = (i*7+3) mod 256; page 1: zero (hole); bytes 8192..<10240: (i*5+1) mod 256",
          "alloc_start": Self.allocStart.description,
        ],
        format: "memfd", name: Self.fileName(v.rawValue))
    }
    for v in LUOVersion.allCases {
      let (image, enc) = try Self.buildLUO(S.sampleState(), v)
      try LUOTestVector.save(
        image,
        meta: [
          "format": v.rawValue, "blob": enc.blob.description, "blob_size": Int(enc.size),
          "state": Self.json(S.sampleState()), "alloc_start": Self.allocStart.description,
        ],
        format: "luo", name: Self.fileName(v.rawValue))
    }
    let (names, enc) = try Self.buildLUO(Self.namesOnly(), .v1, sessions: .v1)
    try LUOTestVector.save(
      names,
      meta: [
        "format": "luo-v1", "sessions": "luo-session-v1", "blob": enc.blob.description,
        "blob_size": Int(enc.size), "state": Self.json(Self.namesOnly()),
        "alloc_start": Self.allocStart.description,
      ],
      format: "luo", name: "luo-v1_luo-session-v1")
  }

  static func json(_ s: LUOState) -> [String: Any] {
    [
      "liveupdate_number": Int(s.liveUpdateNumber),
      "sessions": s.sessions.map { session in
        [
          "name": session.name,
          "files": session.files.map {
            ["compatible": $0.compatible, "token": Int($0.token), "data": $0.data.description]
          },
        ]
      },
      "flbs": s.flbs.map { ["name": $0.name, "data": "0x" + String($0.data, radix: 16), "count": Int($0.count)] },
    ]
  }

  // MARK: Checking

  @Test("block-v1", arguments: ["e1024-n7", "e32-n130"])
  func blocks(name: String) throws {
    let vector = try LUOTestVector.load("block-v1", name)
    let image = vector.image()
    let size = try #require(vector.meta["entry_size"] as? Int)
    let layout = try #require(BlockLayout(entrySize: size))
    let chain = try BlockList.decode(from: image, head: try #require(vector.hex("head")), layout: layout)
    #expect(chain.count == vector.meta["count"] as? Int)
    #expect(chain.entries.array == BlockListTests.entries(chain.count, size: size))
    let (again, _) = try Self.buildBlocks(entrySize: size, entries: chain.entries.array)
    #expect(S.sameContents(again, image))
  }

  @Test func vmallocData() throws {
    let vector = try LUOTestVector.load("vmalloc-v1", "data-3pages")
    let image = vector.image()
    let holder = try #require(vector.hex("descriptor"))
    var r = try image.reader(at: holder, count: 16, path: "/v")
    let d = try VMallocDescriptor(reading: &r)
    #expect(d.totalPages == 3 && d.order == 0 && d.flags == 1)
    let area = try VMalloc.decode(d, from: image)
    let data = try VMalloc.readData(area, count: try #require(vector.meta["data_length"] as? Int), from: image)
    #expect(data == (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
    let (again, _) = try Self.buildVMalloc(data: data, runs: [], order: d.order, flags: d.flags)
    #expect(S.sameContents(again, image))
  }

  @Test func vmallocRuns() throws {
    let vector = try LUOTestVector.load("vmalloc-v1", "runs-511")
    let image = vector.image()
    var r = try image.reader(at: try #require(vector.hex("descriptor")), count: 16, path: "/v")
    let d = try VMallocDescriptor(reading: &r)
    let area = try VMalloc.decode(d, from: image)
    #expect(area.runs == VMallocTests.runs(511))
    #expect(area.chunks.count == 2)
    let (again, _) = try Self.buildVMalloc(data: nil, runs: area.runs, order: d.order, flags: d.flags)
    #expect(S.sameContents(again, image))
  }

  @Test("memfd", arguments: MemfdVersion.allCases)
  func memfd(version: MemfdVersion) throws {
    let vector = try LUOTestVector.load("memfd", Self.fileName(version.rawValue))
    let image = vector.image()
    let d = try Memfd.decode(from: image, at: try #require(vector.hex("address")), version: version)
    #expect(d.state.pos == 42)
    #expect(Int(d.state.seals) == vector.meta["seals"] as? Int)
    let contents = try Memfd.readContents(d, from: image)
    #expect(contents.data == MemfdTests.contents)
    let (again, _) = try Self.buildMemfd(contents.data, pos: d.state.pos, seals: d.state.seals, version)
    #expect(S.sameContents(again, image))
  }

  @Test("luo", arguments: LUOVersion.allCases)
  func luo(version: LUOVersion) throws {
    let vector = try LUOTestVector.load("luo", Self.fileName(version.rawValue))
    let image = vector.image()
    let blob = try #require(vector.hex("blob"))
    let size = try #require(vector.meta["blob_size"] as? Int)
    let d = try LUO.decode(from: image, blob: blob, size: version.container == .raw ? UInt64(size) : nil)
    #expect(d.version == version)
    #expect(d.layout.blobSize == UInt64(size))
    #expect(d.state == S.sampleState())
    let expected = try #require(vector.meta["state"] as? [String: Any])
    let decodedJSON = try JSONSerialization.data(withJSONObject: Self.json(d.state), options: .sortedKeys)
    let expectedJSON = try JSONSerialization.data(withJSONObject: expected, options: .sortedKeys)
    #expect(decodedJSON == expectedJSON)
    let (again, enc) = try Self.buildLUO(d.state, version)
    #expect(enc.blob == blob)
    #expect(S.sameContents(again, image))
  }

  /// luo-v1 with the first commit's name-only session entries.
  @Test func luoSessionV1() throws {
    let vector = try LUOTestVector.load("luo", "luo-v1_luo-session-v1")
    let image = vector.image()
    let blob = try #require(vector.hex("blob"))
    let d = try LUO.decode(from: image, blob: blob, size: nil)
    #expect(d.version == .v1)
    #expect(d.layout.sessionCompatible == "luo-session-v1")
    #expect(d.state == Self.namesOnly())
    let expected = try #require(vector.meta["state"] as? [String: Any])
    let decodedJSON = try JSONSerialization.data(withJSONObject: Self.json(d.state), options: .sortedKeys)
    let expectedJSON = try JSONSerialization.data(withJSONObject: expected, options: .sortedKeys)
    #expect(decodedJSON == expectedJSON)
    let (again, enc) = try Self.buildLUO(d.state, .v1, sessions: .v1)
    #expect(enc.blob == blob)
    #expect(S.sameContents(again, image))
    // The session region: a count, then 64-byte names.
    let region = d.layout.sessions
    let head = try image.bytes(at: region, count: 8 + 3 * 64).array
    #expect(head[0..<8] == [3, 0, 0, 0, 0, 0, 0, 0])
    #expect(Array(head[8..<12]) == Array("vm-0".utf8) && head[12..<72].allSatisfy { $0 == 0 })
    #expect(Array(head[72..<76]) == Array("vm-1".utf8))
    #expect(Array(head[136..<141]) == Array("agent".utf8))
  }

  @Test func luoSessionV1Refusals() throws {
    let image = PhysicalImage()
    var alloc = Self.allocator()
    do {
      _ = try LUO.encode(S.sampleState(), as: .v1, into: image, allocator: &alloc, options: .init(v1Sessions: .v1))
      Issue.record("files written as luo-session-v1")
    } catch {
      #expect(error.kind == .notRepresentable)
      #expect(error.path.description.contains("sessions[0]") && error.path.description.hasSuffix("files"))
    }
    let g = PageGeometry.x86_64
    let cap = LUOLimits.sessionArrayCapacity(g, form: .v1)
    #expect(cap == 1023 && LUOLimits.sessionArrayCapacity(g) == 819)
    var many = LUOState(liveUpdateNumber: 1, sessions: (0..<cap).map { LUOSession(name: "s\($0)") })
    try LUO.check(many, as: .v1, geometry: g, options: .init(v1Sessions: .v1))
    #expect(throws: EncodeError.self) { try LUO.check(many, as: .v1, geometry: g) }
    many.sessions.append(LUOSession(name: "one more"))
    #expect(throws: EncodeError.self) { try LUO.check(many, as: .v1, geometry: g, options: .init(v1Sessions: .v1)) }
    // Later versions have no luo-session node; the option does not apply.
    try LUO.check(S.sampleState(), as: .v3, geometry: g, options: .init(v1Sessions: .v1))
  }
}

/// The fuzz seeds made from the vectors (Fuzz/Corpus/Fuzz{Blocks,LUO,Memfd,VMalloc})
/// decode cleanly, so the fuzzers start from valid inputs of every version.
@Suite("fuzz seeds of block-v1, LUO, memfd, vmalloc-v1")
struct LUOFuzzSeedTests {
  static func seeds(_ target: String) throws -> [(String, [UInt8])] {
    let dir = LUOTestVector.directory.deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fuzz/Corpus/\(target)")
    return try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map {
      ($0, [UInt8](try Data(contentsOf: dir.appendingPathComponent($0))))
    }
  }

  static func image(_ bytes: ArraySlice<UInt8>) -> PhysicalImage {
    let image = PhysicalImage()
    var page: UInt64 = 0x100000
    var offset = bytes.startIndex
    while offset < bytes.endIndex {
      let end = Swift.min(offset + 4096, bytes.endIndex)
      image.zeroPage(page)
      image.write(bytes[offset..<end], at: PhysAddr(page << 12))
      offset = end
      page += 1
    }
    return image
  }

  @Test func luoSeedsCoverEveryVersion() throws {
    var versions = Set<LUOVersion>()
    for (name, data) in try Self.seeds("FuzzLUO") {
      let d = try LUO.decode(from: Self.image(data.dropFirst()), blob: 0x1_0000_0000, size: nil)
      let namesOnly = name.contains("luo-session-v1")
      #expect(d.state == (namesOnly ? LUOGoldenVectorTests.namesOnly() : LUOTestSupport.sampleState()), "\(name)")
      versions.insert(d.version)
    }
    #expect(versions == Set(LUOVersion.allCases))
  }

  @Test func otherSeedsDecode() throws {
    for (_, data) in try Self.seeds("FuzzBlocks") {
      let sizes = [1, 16, 32, 64, 80, 1024, 4080]
      let layout = try #require(BlockLayout(entrySize: sizes[Int(data[0]) % sizes.count]))
      #expect(try BlockList.decode(from: Self.image(data.dropFirst()), head: 0x1_0000_0000, layout: layout).count > 0)
    }
    for (_, data) in try Self.seeds("FuzzMemfd") {
      let n = MemfdVersion.allCases.count
      let v = MemfdVersion.allCases[Int(data[0]) % n]
      let at = PhysAddr(0x1_0000_0000 + UInt64(Int(data[0]) / n) * 4096)
      #expect(try Memfd.decode(from: Self.image(data.dropFirst()), at: at, version: v).state.folios.count == 2)
    }
    for (_, data) in try Self.seeds("FuzzVMalloc") {
      var r = ByteReader(Bytes(data.prefix(16)), order: .little)
      let d = try VMallocDescriptor(reading: &r)
      #expect(try VMalloc.decode(d, from: Self.image(data.dropFirst(16))).runs.count > 0)
    }
  }
}

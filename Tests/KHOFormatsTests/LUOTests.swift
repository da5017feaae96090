// SPDX-License-Identifier: Apache-2.0
import KHOCore
import Testing

@testable import KHOFormats

@Suite("LUO luo-v1 … luo-v5")
struct LUOTests {
  @Test("sample round trip", arguments: LUOVersion.allCases)
  func roundTrip(version: LUOVersion) throws {
    let state = LUOTestSupport.sampleState()
    let (image, enc) = try LUOTestSupport.encode(state, version)
    let d = try LUO.decode(from: image, blob: enc.blob, size: enc.size)
    #expect(d.version == version)
    #expect(d.state == state)
    #expect(d.layout.blob == enc.blob)
    // Without a size: FDT totalsize, or the compatible's struct size.
    let d2 = try LUO.decode(from: image, blob: enc.blob, size: nil, as: version)
    #expect(d2.state == state)
    #expect(d.crossCheck().isEmpty)
    let report = LUO.decodeReporting(from: image, blob: enc.blob, size: enc.size)
    #expect(report.isClean)
  }

  @Test func blobSizes() throws {
    let state = LUOTestSupport.sampleState()
    #expect(try LUOTestSupport.encode(state, .v3).1.size == 32)
    #expect(try LUOTestSupport.encode(state, .v5).1.size == 32)
    #expect(try LUOTestSupport.encode(state, .v5Block).1.size == 40)
    #expect(LUOVersion.v5Block.compatibleFieldLength == 16)
    #expect(LUOVersion.v2.serSize == 24)
    let (image, enc) = try LUOTestSupport.encode(state, .v1)
    let fdt = try FDT(parsing: try image.bytes(at: enc.blob, count: Int(enc.size)))
    #expect(fdt.root.property("compatible")?.string == "luo-v1")
    #expect(fdt.root.property("liveupdate-number")?.u64(.little) == 3)
    #expect(fdt.root.child("luo-session")?.property("compatible")?.string == "luo-session-v2")
    #expect(fdt.root.child("luo-flb")?.property("compatible")?.string == "luo-flb-v1")
  }

  @Test func rawLayoutBytes() throws {
    let (image, enc) = try LUOTestSupport.encode(LUOTestSupport.sampleState(), .v5Block)
    let raw = try image.bytes(at: enc.blob, count: 40).array
    #expect(Array(raw[0..<16]) == Array("luo-v5;block-v1".utf8) + [0])
    #expect(raw[16] == 3)
    let d = try LUO.decode(from: image, blob: enc.blob, size: 40)
    #expect(d.layout.sessions == PhysAddr(try image.u64(at: PhysAddr(enc.blob.rawValue + 24))))
    #expect(d.layout.flbs == PhysAddr(try image.u64(at: PhysAddr(enc.blob.rawValue + 32))))
    #expect(d.layout.sessionBlocks.count == 1)
    #expect(d.layout.fileSets.map(\.blocks.count) == [1, 0, 1])
  }

  @Test func sessionsSpanBlocks() throws {
    var state = LUOState(liveUpdateNumber: 1)
    state.sessions = (0..<55).map { LUOSession(name: "vm-\($0)") }
    state.sessions[0].files = (0..<100).map { LUOFile(compatible: "memfd-v1", token: UInt64($0), data: 0x1000) }
    for v in [LUOVersion.v4, .v5, .v5Block] {
      let (image, enc) = try LUOTestSupport.encode(state, v)
      let d = try LUO.decode(from: image, blob: enc.blob, size: enc.size)
      #expect(d.layout.sessionBlocks.map(\.count) == [51, 4])
      #expect(d.state == state)
      if v != .v4 { #expect(d.layout.fileSets[0].blocks.map(\.count) == [63, 37]) }
    }
  }

  @Test func expectingAnotherVersion() throws {
    let (image, enc) = try LUOTestSupport.encode(LUOTestSupport.sampleState(), .v4)
    #expect { try LUO.decode(from: image, blob: enc.blob, size: enc.size, as: .v5) } throws: {
      ($0 as? DecodeError)?.kind == .unknownVersion
    }
  }

  @Test func emptyState() throws {
    for v in LUOVersion.allCases {
      let (image, enc) = try LUOTestSupport.encode(LUOState(liveUpdateNumber: 0), v)
      let d = try LUO.decode(from: image, blob: enc.blob, size: enc.size)
      #expect(d.state == LUOState(liveUpdateNumber: 0))
      if v != .v1 { #expect(d.layout.sessions == .zero) }
    }
  }

  @Test func largePagesAndBigEndian() throws {
    let state = LUOTestSupport.randomState(seed: 7, shape: 2)
    let be = try #require(PageGeometry(pageShift: 12, byteOrder: .big))
    for g in [PageGeometry.arm64_16K, be] {
      for v in LUO.versions(thatCanExpress: state, geometry: g) {
        let (image, enc) = try LUOTestSupport.encode(state, v, g)
        #expect(try LUO.decode(from: image, blob: enc.blob, size: enc.size).state == state)
      }
    }
  }

  // MARK: What each version can hold

  @Test func capacities() {
    let g = PageGeometry.x86_64
    #expect(LUOVersion.v3.maxSessions(g) == 819)
    #expect(LUOVersion.v4.maxSessions(g) == 510_000)
    #expect(LUOVersion.v4.maxFilesPerSession(g) == 128)
    #expect(LUOVersion.v5.maxFilesPerSession(g) == 630_000)
    #expect(LUOLimits.flbCapacity(g) == 63)
  }

  func refusal(_ state: LUOState, _ v: LUOVersion, options: LUOEncodeOptions = .init()) -> EncodeError? {
    do {
      try LUO.check(state, as: v, geometry: .x86_64, options: options)
      return nil
    } catch {
      return error
    }
  }

  @Test func tooManySessions() throws {
    let state = LUOState(liveUpdateNumber: 1, sessions: (0..<820).map { LUOSession(name: "s\($0)") })
    for v in [LUOVersion.v1, .v2, .v3] {
      let e = refusal(state, v)
      #expect(e?.kind == .notRepresentable)
      #expect(e?.path == "/LUO/sessions")
      #expect(e?.message.contains("819") == true)
    }
    #expect(refusal(state, .v4) == nil)
    #expect(
      LUO.versions(thatCanExpress: state, geometry: .x86_64) == [
        .v4, .v5, .v5Block, .v3KhoBlock, .v4KhoBlock, .features,
      ])
    // The encoder refuses before allocating anything.
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    #expect(throws: EncodeError.self) { try LUO.encode(state, as: .v3, into: image, allocator: &alloc) }
    #expect(image.pageCount == 0)
  }

  @Test func tooManyFiles() {
    let files = (0..<129).map { LUOFile(compatible: "memfd-v1", token: UInt64($0), data: 0) }
    let state = LUOState(liveUpdateNumber: 1, sessions: [LUOSession(name: "a"), LUOSession(name: "big", files: files)])
    let e = refusal(state, .v4)
    #expect(e?.kind == .notRepresentable)
    #expect(e?.path == "/LUO/sessions[1]/files")
    #expect(e?.message.contains("'big'") == true)
    #expect(refusal(state, .v5) == nil)
  }

  @Test func stringLimits() {
    let ok = LUOState(
      liveUpdateNumber: 1,
      sessions: [
        LUOSession(
          name: String(repeating: "n", count: 63),
          files: [
            LUOFile(compatible: String(repeating: "c", count: 47), token: 1, data: 0)
          ])
      ],
      flbs: [LUOFLB(name: String(repeating: "f", count: 47), data: 0, count: 0)])
    for v in LUOVersion.allCases { #expect(refusal(ok, v) == nil) }
    var long = ok
    long.sessions[0].name += "n"
    #expect(refusal(long, .v5)?.path == "/LUO/sessions[0]/name")
    #expect(refusal(long, .v5)?.kind == .notRepresentable)
    long = ok
    long.sessions[0].files[0].compatible += "c"
    #expect(refusal(long, .v1)?.path == "/LUO/sessions[0]/files[0]/compatible")
    long = ok
    long.flbs[0].name += "f"
    #expect(refusal(long, .v3)?.path == "/LUO/flbs[0]/name")
    var nul = ok
    nul.sessions[0].name = "a\u{0}b"
    #expect(refusal(nul, .v4)?.kind == .badString)
  }

  @Test func tooManyFLBsAndV1WithoutNode() {
    let many = LUOState(liveUpdateNumber: 1, flbs: (0..<64).map { LUOFLB(name: "f\($0)", data: 0, count: 1) })
    #expect(refusal(many, .v5)?.path == "/LUO/flbs")
    let one = LUOState(liveUpdateNumber: 1, flbs: [LUOFLB(name: "f", data: 0, count: 1)])
    #expect(refusal(one, .v1, options: LUOEncodeOptions(v1FLBNode: false))?.kind == .notRepresentable)
  }

  @Test func duplicates() throws {
    let state = LUOState(
      liveUpdateNumber: 1,
      sessions: [
        LUOSession(
          name: "a",
          files: [
            LUOFile(compatible: "x", token: 5, data: 0), LUOFile(compatible: "y", token: 5, data: 0),
          ]),
        LUOSession(name: "a"),
      ])
    #expect(refusal(state, .v5)?.kind == .duplicate)
    #expect(refusal(state, .v5)?.path == "/LUO/sessions[0]/files[1]/token")
    #expect(refusal(state, .v5, options: LUOEncodeOptions(rejectDuplicates: false)) == nil)
  }

  @Test func v1WithoutFLBNode() throws {
    let state = LUOState(liveUpdateNumber: 9, sessions: [LUOSession(name: "x")])
    let (image, enc) = try LUOTestSupport.encode(state, .v1, options: LUOEncodeOptions(v1FLBNode: false))
    let d = try LUO.decode(from: image, blob: enc.blob, size: nil)
    #expect(!d.layout.flbNodePresent)
    #expect(d.state == state)
  }

  // MARK: Finding the blob in a KHO root

  @Test func locateInRootFDT() throws {
    let (image, enc) = try LUOTestSupport.encode(LUOTestSupport.sampleState(), .v5)
    for style in KHOSubnodeStyle.allCases {
      let root = DeviceTreeNode(
        "", properties: [.string("compatible", "kho-v4")],
        children: [enc.khoSubnode(style: style, order: .little)])
      let fdt = try FDT(parsing: try FDTBuilder.build(root))
      let (blob, size) = try LUO.locate(in: fdt, order: .little)
      #expect(blob == enc.blob)
      #expect(size == (style == .preservedDataWithSize ? 32 : nil))
      #expect(try LUO.decode(from: image, blob: blob, size: size).version == .v5)
    }
    let none = try FDT(parsing: try FDTBuilder.build(DeviceTreeNode("")))
    #expect { try LUO.locate(in: none, order: .little) } throws: { ($0 as? DecodeError)?.kind == .missing }
  }
}

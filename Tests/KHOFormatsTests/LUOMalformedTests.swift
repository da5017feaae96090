// SPDX-License-Identifier: Apache-2.0
import KHOCore
import Testing

@testable import KHOFormats

/// One test per decoder guard: each malformed input gives a typed error at
/// the right path and address, and the lenient reader keeps what it can.
@Suite("LUO malformed input")
struct LUOMalformedTests {
  typealias S = LUOTestSupport

  func decoded(_ v: LUOVersion, _ state: LUOState = S.sampleState()) throws
    -> (PhysicalImage, LUOEncoded, LUODecoded)
  {
    let (image, enc) = try S.encode(state, v)
    return (image, enc, try LUO.decode(from: image, blob: enc.blob, size: enc.size))
  }

  func error(_ image: PhysicalImage, _ enc: LUOEncoded, size: UInt64?? = .none) -> DecodeError? {
    do {
      _ = try LUO.decode(from: image, blob: enc.blob, size: size ?? enc.size)
      return nil
    } catch {
      return error
    }
  }

  // MARK: Containers

  @Test func unknownRawCompatible() throws {
    let (image, enc, _) = try decoded(.v4)
    image.storeCString("luo-v9", fieldSize: 8, at: enc.blob)
    let e = error(image, enc)
    #expect(e?.kind == .unknownVersion)
    #expect(e?.message.contains("luo-v9") == true)
    #expect(e?.address == enc.blob)
  }

  @Test func garbageBlob() throws {
    let (image, enc, _) = try decoded(.v3)
    image.write([UInt8](repeating: 0x41, count: 64), at: enc.blob)
    #expect(error(image, enc)?.kind == .unknownVersion)
    #expect(error(image, LUOEncoded(version: .v3, blob: .zero, size: 32))?.kind == .missing)
    #expect(error(image, LUOEncoded(version: .v3, blob: 0x7_0000_0000, size: 32))?.kind == .notCaptured)
  }

  @Test func blobSizeTooSmall() throws {
    let (image, enc, _) = try decoded(.v5Block)
    let e = error(image, enc, size: 32)
    #expect(e?.kind == .truncated)
    #expect(e?.path == "/LUO")
    // Larger sizes are accepted (room for growth).
    #expect(error(image, enc, size: 4096) == nil)
  }

  func rebuildFDT(_ image: PhysicalImage, _ enc: LUOEncoded, _ edit: (inout DeviceTreeNode) -> Void) throws
    -> LUOEncoded
  {
    var tree = try FDT(parsing: try image.bytes(at: enc.blob, count: Int(enc.size))).tree()
    edit(&tree)
    let dtb = try FDTBuilder.build(tree)
    image.zeroPage(enc.blob.pfn(image.geometry))
    image.write(dtb, at: enc.blob)
    return LUOEncoded(version: enc.version, blob: enc.blob, size: UInt64(dtb.count))
  }

  @Test func fdtCompatible() throws {
    let (image, enc, _) = try decoded(.v1)
    let bad = try rebuildFDT(image, enc) { $0.properties[0] = .string("compatible", "luo-v0") }
    #expect(error(image, bad)?.kind == .unknownVersion)
  }

  @Test func fdtPropertySizes() throws {
    let (image, enc, _) = try decoded(.v1)
    let bad = try rebuildFDT(image, enc) { $0.properties[1] = .u32("liveupdate-number", 3) }
    let e = error(image, bad)
    #expect(e?.kind == .outOfRange)
    #expect(e?.path == "/LUO")
    let report = LUO.decodeReporting(from: image, blob: bad.blob, size: bad.size)
    #expect(report.value?.state.sessions.count == 3)
    #expect(report.problems.map(\.kind) == [.outOfRange])
  }

  @Test func fdtSessionNode() throws {
    let (image, enc, _) = try decoded(.v1)
    var bad = try rebuildFDT(image, enc) { $0.children.removeFirst() }
    #expect(error(image, bad)?.kind == .missing)
    #expect(error(image, bad)?.path == "/LUO/luo-session")
    bad = try rebuildFDT(image, bad) {
      $0.children.insert(DeviceTreeNode("luo-session", properties: [.string("compatible", "luo-session-v9")]), at: 0)
    }
    #expect(error(image, bad)?.kind == .unknownVersion)
  }

  @Test func fdtFLBNode() throws {
    let (image, enc, _) = try decoded(.v1)
    let bad = try rebuildFDT(image, enc) { $0.children[1].properties[0] = .string("compatible", "luo-flb-v2") }
    #expect(error(image, bad)?.kind == .unknownVersion)
    #expect(error(image, bad)?.path == "/LUO/luo-flb")
  }

  @Test func v2NullHeader() throws {
    let (image, enc, _) = try decoded(.v2)
    let bad = try rebuildFDT(image, enc) { $0.properties[1] = .u64("luo-abi-header", 0, .little) }
    #expect(error(image, bad)?.kind == .missing)
  }

  @Test func truncatedFDT() throws {
    let (image, enc, _) = try decoded(.v2)
    image.store(UInt32(0x10_0000).bigEndian, at: enc.blob.advanced(by: 4) ?? .zero)  // totalsize 1 MiB
    #expect(error(image, enc, size: .some(nil))?.kind == .crossesHole)
    image.store(UInt32(0x10_0001).bigEndian, at: enc.blob.advanced(by: 4) ?? .zero)
    #expect(error(image, enc, size: .some(nil))?.kind == .limitExceeded)
  }

  // MARK: Arrays (luo-v1 … v4)

  @Test func sessionCountOverRegion() throws {
    let (image, enc, d) = try decoded(.v3)
    S.poke(image, d.layout.sessions, 820)
    let e = error(image, enc)
    #expect(e?.kind == .badCount)
    #expect(e?.path == "/LUO/sessions")
    #expect(e?.address == d.layout.sessions)
  }

  @Test func fileCountOverArray() throws {
    let (image, enc, d) = try decoded(.v4)
    let countField = d.layout.sessionEntries[2].advanced(by: 72)
    S.poke(image, countField, 129)
    let e = error(image, enc)
    #expect(e?.kind == .badCount)
    #expect(e?.path == "/LUO/sessions[2]/files")
    #expect(e?.address == countField)
    let report = LUO.decodeReporting(from: image, blob: enc.blob, size: enc.size)
    #expect(report.value?.state.sessions[2].files.count == 128)
    #expect(report.problems.first?.kind == .badCount)
  }

  @Test func filesWithoutArray() throws {
    let (image, enc, d) = try decoded(.v2)
    S.poke(image, d.layout.sessionEntries[0].advanced(by: 64), 0)
    #expect(error(image, enc)?.kind == .missing)
    #expect(error(image, enc)?.path == "/LUO/sessions[0]/files")
  }

  @Test func unterminatedName() throws {
    let (image, enc, d) = try decoded(.v3)
    image.write([UInt8](repeating: 0x61, count: 64), at: d.layout.sessionEntries[1])
    let e = error(image, enc)
    #expect(e?.kind == .badString)
    #expect(e?.path == "/LUO/sessions[1]")
    #expect(e?.address == d.layout.sessionEntries[1])
    let report = LUO.decodeReporting(from: image, blob: enc.blob, size: enc.size)
    #expect(report.value?.state.sessions[1].name == String(repeating: "a", count: 64))
  }

  // MARK: Chains (luo-v4, luo-v5)

  @Test func sessionBlockGuards() throws {
    let state = LUOState(liveUpdateNumber: 1, sessions: (0..<60).map { LUOSession(name: "s\($0)") })
    var (image, enc, d) = try decoded(.v4, state)
    S.poke(image, d.layout.sessionBlocks[1].address.advanced(by: 8), 0)
    var e = error(image, enc)
    #expect(e?.kind == .badCount)
    #expect(e?.path == "/LUO/sessions/block[1]")
    (image, enc, d) = try decoded(.v4, state)
    S.poke(image, d.layout.sessionBlocks[1].address, d.layout.sessionBlocks[0].address.rawValue)
    e = error(image, enc)
    #expect(e?.kind == .cycle)
    #expect(e?.path == "/LUO/sessions/block[2]")
    #expect(e?.address == d.layout.sessionBlocks[0].address)
  }

  @Test func fileCountDiffersFromChain() throws {
    let (image, enc, d) = try decoded(.v5)
    let countField = d.layout.sessionEntries[0].advanced(by: 72)
    S.poke(image, countField, 3)
    let e = error(image, enc)
    #expect(e?.kind == .inconsistent)
    #expect(e?.path == "/LUO/sessions[0]/files")
    #expect(e?.address == countField)
    let report = LUO.decodeReporting(from: image, blob: enc.blob, size: enc.size)
    #expect(report.value?.state.sessions[0].files.count == 2)
    #expect(report.value?.crossCheck().map(\.kind) == [.inconsistent])
    // A count with no chain at all.
    S.poke(image, d.layout.sessionEntries[1].advanced(by: 72), 1)
    #expect(LUO.decodeReporting(from: image, blob: enc.blob, size: enc.size).problems.count == 2)
  }

  @Test func sharedFileChain() throws {
    let (image, enc, d) = try decoded(.v5)
    // Session 2 points at session 0's file chain.
    S.poke(image, d.layout.sessionEntries[2].advanced(by: 64), d.layout.fileSets[0].files.rawValue)
    let e = error(image, enc)
    #expect(e?.kind == .duplicate)
    #expect(e?.path == "/LUO/sessions[2]/files/block[0]")
    #expect(e?.message.contains("/LUO/sessions[0]/files") == true)
  }

  @Test func fileChainIntoSessionBlock() throws {
    let (image, enc, d) = try decoded(.v5)
    S.poke(image, d.layout.sessionEntries[0].advanced(by: 64), d.layout.sessionBlocks[0].address.rawValue)
    #expect(error(image, enc)?.kind == .duplicate)
  }

  // MARK: FLBs

  @Test func flbGuards() throws {
    var (image, enc, d) = try decoded(.v5)
    S.poke(image, d.layout.flbs, 0)
    var e = error(image, enc)
    #expect(e?.kind == .outOfRange)
    #expect(e?.path == "/LUO/flbs")
    #expect(e?.address == d.layout.flbs)
    (image, enc, d) = try decoded(.v5)
    S.poke(image, d.layout.flbs.advanced(by: 8), 64)
    e = error(image, enc)
    #expect(e?.kind == .badCount)
    #expect(e?.address == d.layout.flbs.advanced(by: 8))
  }

  @Test func lenientReportKeepsGoing() throws {
    let (image, enc, d) = try decoded(.v5)
    S.poke(image, d.layout.sessionEntries[0].advanced(by: 72), 9)
    S.poke(image, d.layout.flbs.advanced(by: 8), 1000)
    let report = LUO.decodeReporting(from: image, blob: enc.blob, size: enc.size)
    #expect(report.problems.map(\.kind) == [.inconsistent, .badCount])
    #expect(report.value?.state.sessions.map(\.name) == ["vm-0", "vm-1", "agent"])
    #expect(report.value?.state.flbs.count == 63)
  }
}

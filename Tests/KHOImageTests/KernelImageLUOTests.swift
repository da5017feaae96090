// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import KHOImage
import Testing

@testable import KHOFormats

/// The LUO, block, memfd and vmalloc decoders against a handover written by
/// the kernel's own code (kho-v4 root, raw luo-v4 blob, memfd-v1 files),
/// checked field by field against the image's expected.json.
@Suite("kernel image kho-v4-luo-v4: LUO sessions, files, memfd")
struct KernelImageLUOTests {
  static let directory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/kernel-images")

  struct Fixture {
    let memory: ELFCore
    let root: FDT
    let expected: [String: Any]
    let luo: [String: Any]
  }

  static func load() throws -> Fixture {
    let elf = directory.appendingPathComponent("kho-v4-luo-v4.elf.zst").path
    let json = try Data(contentsOf: directory.appendingPathComponent("kho-v4-luo-v4.expected.json"))
    let expected = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    let memory = try ELFCore(bytes: try InputFile.load(elf))
    let rootPhys = PhysAddr(UInt64(try #require(expected["root_fdt_phys"] as? Int)))
    let size = try #require(expected["root_fdt_totalsize"] as? Int)
    let root = try FDT(parsing: try memory.bytes(at: rootPhys, count: size))
    return Fixture(memory: memory, root: root, expected: expected, luo: try #require(expected["luo"] as? [String: Any]))
  }

  static func u64(_ any: Any?) -> UInt64? {
    (any as? NSNumber)?.uint64Value
  }

  @Test func luoBlobAndSessions() throws {
    let f = try Self.load()
    let (blob, size) = try LUO.locate(in: f.root, order: f.memory.geometry.byteOrder)
    #expect(blob.rawValue == Self.u64(f.luo["ser_phys"]))
    #expect(size == Self.u64(f.luo["luo_ser_size"]))
    let d = try LUO.decode(from: f.memory, blob: blob, size: size)
    #expect(d.version.compatible == f.luo["compatible"] as? String)
    #expect(d.version.compatibleFieldLength == f.luo["compatible_field_len"] as? Int)
    #expect(d.state.liveUpdateNumber == Self.u64(f.luo["liveupdate_num"]))
    #expect(d.layout.sessions.rawValue == Self.u64(f.luo["sessions_pa"]))
    #expect(d.layout.flbs.rawValue == Self.u64(f.luo["flbs_pa"]))
    #expect(d.state.flbs.count == (f.luo["flb_header"] as? [String: Any])?["count"] as? Int)
    let blocks = try #require(f.luo["session_blocks"] as? [[String: Any]])
    #expect(d.layout.sessionBlocks.map(\.address.rawValue) == blocks.compactMap { Self.u64($0["phys"]) })
    #expect(d.layout.sessionBlocks.map(\.count) == blocks.compactMap { $0["count"] as? Int })

    let sessions = try #require(f.luo["sessions"] as? [[String: Any]])
    #expect(d.state.sessions.count == sessions.count)
    #expect(d.state.sessions.count == f.luo["session_count"] as? Int)
    for (i, (got, want)) in zip(d.state.sessions, sessions).enumerated() {
      #expect(got.name == want["name"] as? String)
      #expect(got.files.count == want["file_count"] as? Int)
      #expect(d.layout.fileSets[i].files.rawValue == Self.u64(want["files_pa"]))
      let files = want["files"] as? [[String: Any]] ?? []
      #expect(got.files.map(\.compatible) == files.compactMap { $0["compatible"] as? String })
      #expect(got.files.map(\.token) == files.compactMap { Self.u64($0["token"]) })
      #expect(got.files.map(\.data.rawValue) == files.compactMap { Self.u64($0["data"]) })
    }
    #expect(d.crossCheck().isEmpty)
    #expect(LUO.decodeReporting(from: f.memory, blob: blob, size: size).isClean)
  }

  /// Our entry encoders give the kernel's bytes for the same values.
  @Test func entryBytesMatchTheKernel() throws {
    let f = try Self.load()
    let (blob, size) = try LUO.locate(in: f.root, order: .little)
    let d = try LUO.decode(from: f.memory, blob: blob, size: size)
    for (i, s) in d.state.sessions.enumerated() {
      let kernel = try f.memory.bytes(at: d.layout.sessionEntries[i], count: 80).array
      #expect(LUOEntries.session(s.name, files: d.layout.fileSets[i].files, count: s.files.count, .little) == kernel)
      for (j, file) in s.files.enumerated() {
        let k = try f.memory.bytes(at: d.layout.fileSets[i].entries[j], count: 64).array
        #expect(LUOEntries.file(file, .little) == k)
      }
    }
    var head = try f.memory.reader(at: blob, count: 32, path: "/LUO")
    #expect(try head.cString(fixedSize: 8) == "luo-v4")
  }

  @Test func memfdStates() throws {
    let f = try Self.load()
    let (blob, size) = try LUO.locate(in: f.root, order: .little)
    let d = try LUO.decode(from: f.memory, blob: blob, size: size)
    let sessions = try #require(f.luo["sessions"] as? [[String: Any]])
    var checked = 0
    for (s, want) in zip(d.state.sessions, sessions) {
      for (file, wf) in zip(s.files, want["files"] as? [[String: Any]] ?? []) {
        let wm = try #require(wf["memfd"] as? [String: Any])
        let version = try #require(MemfdVersion(compatible: file.compatible))
        let m = try Memfd.decode(from: f.memory, at: file.data, version: version)
        #expect(m.state.size == Self.u64(wm["size"]))
        #expect(m.state.pos == Self.u64(wm["pos"]))
        #expect(m.state.folios.count == wm["nr_folios"] as? Int)
        let vm = try #require(wm["folios_vmalloc"] as? [String: Any])
        #expect(m.folioArray.descriptor.first.rawValue == Self.u64(vm["first"]))
        #expect(Int(m.folioArray.descriptor.totalPages) == vm["total_pages"] as? Int)
        #expect(Int(m.folioArray.descriptor.flags) == vm["flags"] as? Int)
        #expect(Int(m.folioArray.descriptor.order) == vm["order"] as? Int)
        #expect(m.folioArray.chunks.map(\.rawValue) == (vm["chunks"] as? [Any] ?? []).compactMap(Self.u64))
        #expect(m.folioArray.runs.map(\.rawValue) == (vm["pages"] as? [Any] ?? []).compactMap(Self.u64))
        let folios = try #require(wm["folios"] as? [String: Any])
        #expect(m.state.folios.count == folios["count"] as? Int)
        let lines = m.state.folios.map { "0x\(String($0.pfn, radix: 16)) \($0.flags) \($0.index)\n" }.joined()
        #expect(SHA256Hex.of(Array(lines.utf8)) == folios["sha256"] as? String)
        func triples(_ key: String) -> [[UInt64]] {
          (folios[key] as? [[Any]] ?? []).map { $0.compactMap(Self.u64) }
        }
        let mine = m.state.folios.map { [$0.pfn, UInt64($0.flags), $0.index] }
        if folios["entries"] != nil {
          #expect(mine == triples("entries"))
        } else {
          #expect(Array(mine.prefix(16)) == triples("first_entries"))
          #expect(Array(mine.suffix(16)) == triples("last_entries"))
        }
        // Folio data pages are not captured in this image.
        if let first = m.state.folios.first(where: { !$0.isEmpty }) {
          let c = try Memfd.readContents(m, from: f.memory, missingPages: .zeroFill)
          #expect(c.assumedOrderZero)
          #expect(c.problems.first?.address == first.address(.x86_64))
          #expect(c.data.count == Int(m.state.size))
        }
        checked += 1
      }
    }
    #expect(checked == 103)
  }

  /// The decoded state re-encodes in every version that can hold it and decodes back equal.
  @Test func stateReencodes() throws {
    let f = try Self.load()
    let (blob, size) = try LUO.locate(in: f.root, order: .little)
    let state = try LUO.decode(from: f.memory, blob: blob, size: size).state
    #expect(LUO.versions(thatCanExpress: state, geometry: .x86_64) == LUOVersion.allCases)
    for v in LUOVersion.allCases {
      let image = PhysicalImage()
      var alloc = PageAllocator(start: 0x1_0000_0000, pages: 1 << 16)
      let enc = try LUO.encode(state, as: v, into: image, allocator: &alloc)
      #expect(try LUO.decode(from: image, blob: enc.blob, size: enc.size).state == state)
    }
  }
}

/// SHA-256 (FIPS 180-4), small and slow, for checking digests in expected.json.
enum SHA256Hex {
  static let k: [UInt32] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]

  static func of(_ message: [UInt8]) -> String {
    var h: [UInt32] = [
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]
    var data = message
    data.append(0x80)
    while data.count % 64 != 56 { data.append(0) }
    let bits = UInt64(message.count) &* 8
    for i in (0..<8).reversed() { data.append(UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8))) }
    func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
    var w = [UInt32](repeating: 0, count: 64)
    for chunk in stride(from: 0, to: data.count, by: 64) {
      for i in 0..<16 {
        w[i] = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(data[chunk + i * 4 + $1]) }
      }
      for i in 16..<64 {
        let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
        let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
        w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
      }
      var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
      for i in 0..<64 {
        let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
        let ch = (e & f) ^ (~e & g)
        let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
        let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
        let maj = (a & b) ^ (a & c) ^ (b & c)
        let t2 = s0 &+ maj
        (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
      }
      for (i, v) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ v }
    }
    return h.map { String(format: "%08x", $0) }.joined()
  }
}

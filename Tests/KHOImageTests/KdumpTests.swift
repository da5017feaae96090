// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import Testing

@testable import KHOImage

/// kdump-compressed and flattened inputs: the QEMU fixtures read back,
/// and malformed headers and records are typed errors.
@Suite("kdump and flattened dumps")
struct KdumpTests {
  static let qemu = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("QEMU")

  static func fixture(_ name: String) throws(DecodeError) -> [UInt8] {
    let mapped = try InputFile.load(qemu.appendingPathComponent(name).path)
    return mapped.array
  }

  @Test("QEMU's kdump and its flattened form read the same bytes as its ELF core")
  func sameBytes() throws {
    let elf = try HandoverSource.open(Self.qemu.appendingPathComponent("kho-v4-luo-v4.qemu-elf.zst").path)
    for name in ["kho-v4-luo-v4.qemu-kdump-zlib.zst", "kho-v4-luo-v4.qemu-kdump-zlib-flat.zst"] {
      let kd = try HandoverSource.open(Self.qemu.appendingPathComponent(name).path)
      #expect(kd.kind == .kdumpCompressed)
      #expect(kd.rootAddress == PhysAddr(0x1008fa000))
      let core = try #require(kd.memory as? KdumpCore)
      #expect(core.header.blockSize == 4096)
      #expect(core.header.machine == "x86_64")
      #expect(core.header.compression.contains("zlib"))
      #expect(core.header.maxMapnr == 0x104000)
      // Whole pages around the root and the last page of RAM.
      for a: UInt64 in [0x1008f9000, 0x1008fa000, 0x103fff000, 0] {
        let x = try kd.memory.bytes(at: PhysAddr(a), count: 8192 - (a == 0x103fff000 ? 4096 : 0))
        let y = try elf.memory.bytes(at: PhysAddr(a), count: x.count)
        #expect(x == y, "bytes at 0x\(String(a, radix: 16))")
      }
      // A frame above the dump is not captured.
      #expect(throws: DecodeError.self) { _ = try kd.memory.bytes(at: PhysAddr(0x104000000), count: 1) }
    }
  }

  /// The flattened fixture's bytes with `edit` applied, opened.
  static func openFlattened(_ edit: (inout [UInt8]) -> Void) throws(DecodeError) -> HandoverSource {
    var b = try fixture("kho-v2-radix.qemu-kdump-zlib-flat.zst")
    edit(&b)
    return try HandoverSource.open(bytes: Bytes(b), name: "flat")
  }

  static func be(_ v: Int64) -> [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * Int64($0))) } }

  @Test("flattened: bad header, negative offset, a record past the input, no end record")
  func flattenedRefusals() throws {
    let cases: [(String, DecodeError.Kind, (inout [UInt8]) -> Void)] = [
      ("type 2", .unsupported, { $0.replaceSubrange(16..<24, with: Self.be(2)) }),
      ("negative offset", .outOfRange, { $0.replaceSubrange(4096..<4104, with: Self.be(-5)) }),
      ("huge size", .outOfRange, { $0.replaceSubrange(4104..<4112, with: Self.be(Int64.max)) }),
      ("size past the input", .truncated, { $0.replaceSubrange(4104..<4112, with: Self.be(1 << 30)) }),
      ("no end record", .truncated, { $0.removeLast(16) }),
      ("not a kdump inside", .badMagic, { $0[4112] = 0x41 }),
    ]
    for (what, kind, edit) in cases {
      do throws(DecodeError) {
        _ = try Self.openFlattened(edit)
        Issue.record("\(what): opened")
      } catch {
        #expect(error.kind == kind, "\(what): \(error)")
      }
    }
  }

  @Test("kdump header: block size, sub-header, bitmaps and max_mapnr are checked before libkdumpfile")
  func headerRefusals() throws {
    let good = try Self.fixture("kho-v2-radix.qemu-kdump-zlib.zst")
    func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    let cases: [(String, DecodeError.Kind, (inout [UInt8]) -> Void)] = [
      ("block size 3", .unsupported, { $0.replaceSubrange(428..<432, with: le32(3)) }),
      ("sub-header 2^20 blocks", .outOfRange, { $0.replaceSubrange(432..<436, with: le32(1 << 20)) }),
      ("bitmaps past the file", .truncated, { $0.replaceSubrange(436..<440, with: le32(1 << 30)) }),
      (
        "max_mapnr over the bitmap", .inconsistent,
        {
          $0.replaceSubrange(440..<444, with: le32(UInt32.max))
          $0.replaceSubrange(4096 + 96..<4096 + 104, with: [UInt8](repeating: 0xff, count: 8))
        }
      ),
      ("cut in the header block", .truncated, { $0.removeSubrange(2000...) }),
      ("header version 7628115", .unsupported, { $0.replaceSubrange(8..<12, with: le32(7_628_115)) }),
      (
        // libkdumpfile reads the sub-header by version even when
        // sub_hdr_size is 0 (found by FuzzKdump: a 2^49-byte allocation).
        "sub_hdr_size 0, VMCOREINFO size 2^63", .truncated,
        {
          $0.replaceSubrange(432..<436, with: le32(0))
          $0.replaceSubrange(4096 + 40..<4096 + 48, with: [0, 0, 0, 0, 0, 0, 0, 0x80])
        }
      ),
    ]
    for (what, kind, edit) in cases {
      var b = good
      edit(&b)
      do throws(DecodeError) {
        _ = try HandoverSource.open(bytes: Bytes(b), name: "kdump")
        Issue.record("\(what): opened")
      } catch {
        #expect(error.kind == kind, "\(what): \(error)")
      }
    }
  }

  /// libkdumpfile reads pages while it opens a dump and allocates what
  /// their descriptors say (FuzzKdump: a descriptor of 3 GiB, an
  /// allocation ASan refused): a page stored in more than a block is
  /// refused before the library sees the dump.
  @Test("a page descriptor larger than a block is refused at open")
  func descriptorLargerThanABlock() throws {
    let seed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus/FuzzKdump/tiny.kdump")
    var b = Array(try Data(contentsOf: seed))
    let at = 4 * 4096 + 24 * 1 + 8  // the second descriptor's size
    for (i, v) in [0x00, 0x00, 0x00, 0xc0].enumerated() { b[at + i] = UInt8(v) }
    do throws(DecodeError) {
      _ = try HandoverSource.open(bytes: Bytes(b), name: "big")
      Issue.record("a descriptor of 3 GiB opened")
    } catch {
      #expect(error.kind == .inconsistent)
      #expect(error.description.contains("more than a 4096-byte block"))
    }
  }

  @Test("a page descriptor past the end of the file is refused before libkdumpfile reads it")
  func descriptorPastEnd() throws {
    let seed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus/FuzzKdump/tiny.kdump")
    var b = Array(try Data(contentsOf: seed))
    // Page frame 2's descriptor (the third) points 1 MiB past the end.
    let at = 4 * 4096 + 24 * 2
    let far = UInt64(b.count + (1 << 20))
    for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: far >> (8 * UInt64(i))) }
    let source = try HandoverSource.open(bytes: Bytes(b), name: "bad")
    do throws(DecodeError) {
      _ = try source.memory.bytes(at: PhysAddr(0x2000), count: 16)
      Issue.record("a page past the end of the file read")
    } catch {
      #expect(error.kind == .outOfRange)
      #expect(error.address == PhysAddr(0x2000))
    }
    // The other pages still read, and the scan still finds the root at 0x3000.
    #expect(try source.memory.bytes(at: PhysAddr(0x1000), count: 4).array == Array("khod".utf8))
    #expect(source.rootAddress == PhysAddr(0x3000))
    #expect(source.loadProblems.map(\.kind) == [.outOfRange])
  }

  @Test("the scan skips pages that are QEMU's shared zero page")
  func sharedZeroPage() throws {
    let seed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus/FuzzKdump/tiny.kdump")
    let source = try HandoverSource.open(seed.path)
    // Pages 0 and 4-7 share one zero page; 1, 2 and 3 (the root) hold data.
    var seen: [PhysAddr] = []
    var bytes = 0
    try source.memory.scanData(chunk: 1 << 20) { at, span in
      seen.append(at)
      bytes += span.byteCount
      return true
    }
    #expect(seen == [PhysAddr(0x1000)])
    #expect(bytes == 3 * 4096)
    // The zero pages still read, as zeros.
    #expect(try source.memory.bytes(at: PhysAddr(0x5000), count: 4096).array == [UInt8](repeating: 0, count: 4096))
    #expect(source.rootAddress == PhysAddr(0x3000))
  }

  @Test("a sparse core's holes are not data, and the scan skips them")
  func sparseHoles() throws {
    let path = NSTemporaryDirectory() + "kho-sparse-\(UUID().uuidString).elf"
    defer { try? FileManager.default.removeItem(atPath: path) }
    // One 1 GiB PT_LOAD at 0, a KHO root at 512 MiB, the rest a hole.
    let size: UInt64 = 1 << 30
    let f = try SparseCore.create(path, size: size, segmentOffset: 4096)
    try f.seek(toOffset: 4096 + (512 << 20))
    try f.write(contentsOf: Data(try RootLocatorTests.root()))
    try f.close()
    let source = try HandoverSource.open(path)
    #expect(source.rootAddress == PhysAddr(512 << 20))
    #expect(source.candidates.first?.foundBy.first?.kind == .scan)
    let data = source.memory.dataSegments.reduce(0) { $0 + $1.size }
    #expect(data < 1 << 20, "data \(data) of a 1 GiB sparse segment")
    #expect(source.memory.capturedBytes == size)
  }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import Testing

@testable import KHOImage

/// Cores and bundles are written as streams: a sink sees bounded pieces,
/// and the streamed bytes are the ones the in-memory writer gives.
@Suite("streaming writers")
struct StreamingWriterTests {
  /// 24 MiB of memory in three ranges, every page stamped with its address.
  static func memory() -> PhysicalImage {
    let m = PhysicalImage()
    for base: UInt64 in [0x1_0000_0000, 0x2_0000_0000, 0x3_0000_0000] {
      for p in 0..<UInt64(2048) {
        m.store(base + p << 12, at: PhysAddr(base + p << 12))
      }
    }
    return m
  }

  @Test("the ELF writer hands out pieces of at most its chunk, the same bytes as the array writer")
  func elfPieces() throws {
    let m = Self.memory()
    var largest = 0
    var pieces = 0
    var streamed: [UInt8] = []
    try ELFCoreWriter().write(m) { (p: UnsafeRawBufferPointer) throws(DecodeError) in
      largest = Swift.max(largest, p.count)
      pieces += 1
      streamed.appendBytes(p)
    }
    #expect(largest <= ELFCoreWriter.chunk)
    #expect(pieces > 3)
    #expect(streamed == (try ELFCoreWriter().write(m)))
    // And it reads back.
    let core = try ELFCore(bytes: Bytes(streamed))
    #expect(try core.u64(at: PhysAddr(0x2_0000_0000 + 100 << 12)) == 0x2_0000_0000 + 100 << 12)
  }

  @Test("a bundle of more than 65,535 ranges keeps its count (PN_XNUM) and reads back")
  func manyRanges() throws {
    // One-page ranges with gaps between them, all but the last sharing one
    // zero page: 65,600 program headers, which e_phnum cannot hold.
    let n = 65_600
    let zero = Bytes([UInt8](repeating: 0, count: 4096))
    let lastAddress: UInt64 = 0x1_0000_0000 + UInt64(n - 1) * 0x2000
    var stamped = [UInt8](repeating: 0, count: 4096)
    withUnsafeBytes(of: lastAddress.littleEndian) { stamped.replaceSubrange(0..<8, with: $0) }
    var pieces = (0..<(n - 1)).map { (PhysAddr(0x1_0000_0000 + UInt64($0) * 0x2000), zero) }
    pieces.append((PhysAddr(lastAddress), Bytes(stamped)))
    let m = try SegmentedMemory(geometry: .x86_64, pieces: pieces)
    #expect(m.segments.count == n)
    let note = BundleNote(root: PhysAddr(lastAddress), geometry: m.geometry, source: "test")
    var out: [UInt8] = []
    try BundleWriter.write(m, ranges: m.segments, note: note) { (p: UnsafeRawBufferPointer) throws(DecodeError) in
      out.appendBytes(p)
    }
    let source = try HandoverSource.open(bytes: Bytes(out), name: "many", locateRoot: false)
    #expect(source.memory.segments.count == n)
    #expect(source.memory.segments.last == m.segments.last)
    #expect(try source.memory.u64(at: PhysAddr(lastAddress)) == lastAddress)
  }

  @Test("a streamed bundle is compressed as it goes and reads back page for page")
  func bundle() throws {
    let m = Self.memory()
    let note = BundleNote(root: PhysAddr(0x1_0000_0000), geometry: m.geometry, source: "test")
    var out: [UInt8] = []
    var largest = 0
    try BundleWriter.write(m, ranges: m.segments, note: note) { (p: UnsafeRawBufferPointer) throws(DecodeError) in
      largest = Swift.max(largest, p.count)
      out.appendBytes(p)
    }
    #expect(Zstd.isCompressed(Bytes(out)))
    #expect(largest <= 1 << 20, "a compressed piece of \(largest) bytes")
    let source = try HandoverSource.open(bytes: Bytes(out), name: "streamed")
    #expect(source.kind == .bundle)
    #expect(source.memory.segments == m.segments)
    for a: UInt64 in [0x1_0000_0000, 0x2_0000_0000 + 2047 << 12, 0x3_0000_0000 + 5 << 12] {
      #expect(try source.memory.u64(at: PhysAddr(a)) == a)
    }
  }

  @Test("large reads of a mapped core are copies that equal the mapping")
  func largeReads() throws {
    let m = Self.memory()
    let path = NSTemporaryDirectory() + "kho-stream-\(UUID().uuidString).elf"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Data(try ELFCoreWriter().write(m)).write(to: URL(fileURLWithPath: path))
    let core = try ELFCore(path: path)
    let big = try core.bytes(at: PhysAddr(0x2_0000_0000), count: ELFCore.copyThreshold + 4096)
    let small = try core.bytes(at: PhysAddr(0x2_0000_0000 + UInt64(ELFCore.copyThreshold)), count: 4096)
    #expect(big.extracting(ELFCore.copyThreshold, count: 4096) == small)
    #expect(try core.u64(at: PhysAddr(0x2_0000_0000 + 300 << 12)) == 0x2_0000_0000 + 300 << 12)
  }
}

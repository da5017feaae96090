// SPDX-License-Identifier: Apache-2.0
import KHOCore
import Testing

@testable import KHOFormats

@Suite("block-v1 chains")
struct BlockListTests {
  /// Entries whose bytes encode their index, so misplaced entries show.
  static func entries(_ count: Int, size: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count * size)
    for i in 0..<count {
      for k in 0..<size { out[i * size + k] = UInt8(truncatingIfNeeded: i &* 31 &+ k &* 7 &+ 1) }
    }
    return out
  }

  static func write(_ count: Int, size: Int, _ g: PageGeometry = .x86_64) throws
    -> (PhysicalImage, BlockList.Written, BlockLayout, [UInt8])
  {
    let layout = try #require(BlockLayout(entrySize: size, geometry: g))
    let image = PhysicalImage(geometry: g)
    var alloc = LUOTestSupport.allocator(g)
    let data = entries(count, size: size)
    let w = try BlockList.encode(data, layout: layout, into: image, allocator: &alloc, path: "/t")
    return (image, w, layout, data)
  }

  @Test("layout capacities", arguments: [(80, 51), (64, 63), (32, 127), (4080, 1), (1, 4080)])
  func capacities(size: Int, per: Int) throws {
    let layout = try #require(BlockLayout(entrySize: size))
    #expect(layout.entriesPerBlock == per)
    #expect(layout.blocks(for: 0) == 0)
    #expect(layout.blocks(for: per) == 1)
    #expect(layout.blocks(for: per + 1) == 2)
  }

  @Test func layoutRefusesImpossibleSizes() {
    #expect(BlockLayout(entrySize: 0) == nil)
    #expect(BlockLayout(entrySize: 4081) == nil)
    #expect(BlockLayout(entrySize: 16_368, geometry: .arm64_16K)?.entriesPerBlock == 1)
  }

  @Test("round trip", arguments: [1, 32, 64, 80, 1000, 4080], [0, 1, 2, 63, 64, 127, 128, 400])
  func roundTrip(size: Int, count: Int) throws {
    let (image, w, layout, data) = try Self.write(count, size: size)
    #expect(w.blocks.count == layout.blocks(for: count))
    #expect(w.head == (w.blocks.first ?? .zero))
    let chain = try BlockList.decode(from: image, head: w.head, layout: layout, path: "/t")
    #expect(chain.count == count)
    #expect(chain.entries.array == data)
    #expect(chain.blocks.map(\.address) == w.blocks)
    // Every block full except the last; none empty.
    for (i, b) in chain.blocks.enumerated() {
      #expect(b.count > 0)
      if i < chain.blocks.count - 1 { #expect(b.count == layout.entriesPerBlock) }
    }
  }

  @Test func headerBytesAreNativeOrder() throws {
    let (image, w, _, _) = try Self.write(130, size: 32)
    let first = try image.bytes(at: w.blocks[0], count: 16).array
    let next = w.blocks[1].rawValue
    #expect(Array(first[0..<8]) == withUnsafeBytes(of: next.littleEndian) { Array($0) })
    #expect(Array(first[8..<16]) == [127, 0, 0, 0, 0, 0, 0, 0])
    let last = try image.bytes(at: w.blocks[1], count: 16).array
    #expect(last == [0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0])
  }

  @Test func bigEndianAndLargePages() throws {
    let be = try #require(PageGeometry(pageShift: 12, byteOrder: .big))
    for g in [be, PageGeometry.arm64_16K, PageGeometry.arm64_64K] {
      let (image, w, layout, data) = try Self.write(3000, size: 80, g)
      let chain = try BlockList.decode(from: image, head: w.head, layout: layout)
      #expect(chain.entries.array == data)
    }
  }

  @Test func arenaMatchesImage() throws {
    let (image, w, layout, data) = try Self.write(300, size: 32)
    var arena = [UInt8](repeating: 0xee, count: 4 * 4096)
    let wa = try BlockList.encode(data, layout: layout, into: &arena, base: LUOTestSupport.base)
    #expect(wa == w)
    for (i, b) in w.blocks.enumerated() {
      let page = try image.bytes(at: b, count: 4096).array
      #expect(Array(arena[i * 4096..<(i + 1) * 4096]) == page)
    }
    var small = [UInt8](repeating: 0, count: 4096)
    #expect(throws: EncodeError.self) {
      try BlockList.encode(data, layout: layout, into: &small, base: LUOTestSupport.base)
    }
  }

  @Test func decodeIntoReusedBuffer() throws {
    let (image, w, layout, data) = try Self.write(300, size: 32)
    var buffer: [UInt8] = [1, 2, 3]
    let blocks = try BlockList.decode(from: image, head: w.head, layout: layout, into: &buffer)
    #expect(buffer == data)
    #expect(blocks.map(\.count) == [127, 127, 46])
    image.store(UInt64(0), at: w.blocks[1].advanced(by: 8) ?? .zero)
    #expect(throws: DecodeError.self) {
      try BlockList.decode(from: image, head: w.head, layout: layout, into: &buffer)
    }
  }

  @Test func entryLocations() throws {
    let (image, w, layout, _) = try Self.write(130, size: 32)
    let chain = try BlockList.decode(from: image, head: w.head, layout: layout)
    #expect(chain.address(ofEntry: 0) == w.blocks[0].advanced(by: 16))
    #expect(chain.address(ofEntry: 127) == w.blocks[1].advanced(by: 16))
    #expect(chain.address(ofEntry: 129) == w.blocks[1].advanced(by: 16 + 64))
    #expect(chain.address(ofEntry: 130) == nil)
    let r = try #require(chain.reader(forEntry: 128, path: "/t[128]"))
    #expect(r.base == w.blocks[1].advanced(by: 48))
  }

  @Test func encoderRefuses() throws {
    let layout = try #require(BlockLayout(entrySize: 32))
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    #expect(throws: EncodeError.self) {
      try BlockList.encode([1, 2, 3], layout: layout, into: image, allocator: &alloc)
    }
    let big = try #require(BlockLayout(entrySize: 4080))
    let tooMany = [UInt8](repeating: 0, count: 4080 * (BlockLayout.maxBlocks + 1))
    do {
      _ = try BlockList.encode(tooMany, layout: big, into: image, allocator: &alloc, path: "/x")
      Issue.record("expected a refusal")
    } catch {
      #expect(error.kind == .notRepresentable)
      #expect(error.path == "/x")
    }
    #expect(image.pageCount == 0)
  }

  // MARK: Guards

  func expectError(
    _ image: PhysicalImage, _ head: PhysAddr, _ layout: BlockLayout, _ kind: DecodeError.Kind,
    path: DecodePath, address: PhysAddr?
  ) {
    do {
      _ = try BlockList.decode(from: image, head: head, layout: layout, path: "/t")
      Issue.record("expected \(kind)")
    } catch {
      #expect(error.kind == kind)
      #expect(error.path == path)
      #expect(error.address == address)
    }
  }

  @Test func zeroCount() throws {
    let (image, w, layout, _) = try Self.write(300, size: 32)
    image.store(UInt64(0), at: w.blocks[1].advanced(by: 8) ?? .zero)
    expectError(image, w.head, layout, .badCount, path: "/t/block[1]", address: w.blocks[1].advanced(by: 8))
  }

  @Test func countOverCapacity() throws {
    let (image, w, layout, _) = try Self.write(300, size: 32)
    image.store(UInt64(128), at: w.blocks[2].advanced(by: 8) ?? .zero)
    expectError(image, w.head, layout, .badCount, path: "/t/block[2]", address: w.blocks[2].advanced(by: 8))
  }

  @Test func cycleIsFoundAtTheRepeatedBlock() throws {
    let (image, w, layout, _) = try Self.write(300, size: 32)
    image.store(w.blocks[0].rawValue, at: w.blocks[2])  // block 2 -> block 0
    expectError(image, w.head, layout, .cycle, path: "/t/block[3]", address: w.blocks[0])
    let report = BlockList.decodeReporting(from: image, head: w.head, layout: layout, path: "/t")
    #expect(report.value?.blocks.count == 3)
    #expect(report.value?.count == 300)
    #expect(report.problems.map(\.kind) == [.cycle])
  }

  @Test("a loop is found at its first repeat, not after the block limit")
  func loopOfEmptyBlocks() throws {
    let (image, w, layout, _) = try Self.write(300, size: 32)
    image.store(w.blocks[0].rawValue, at: w.blocks[2])  // block 2 -> block 0
    for b in w.blocks { image.store(UInt64(0), at: b.advanced(by: 8) ?? .zero) }  // every count 0
    let report = BlockList.decodeReporting(from: image, head: w.head, layout: layout, path: "/t")
    // Before, the walk went round 10,000 times and kept 1,000 badCount problems.
    #expect(report.problems.map(\.kind) == [.badCount, .badCount, .badCount, .cycle])
    #expect(report.omittedProblems == 0)
    #expect(report.value?.blocks.count == 3)
  }

  @Test func selfLoop() throws {
    let (image, w, layout, _) = try Self.write(5, size: 32)
    image.store(w.head.rawValue, at: w.head)
    expectError(image, w.head, layout, .cycle, path: "/t/block[1]", address: w.head)
  }

  @Test func chainLongerThanTheCap() throws {
    let (image, w, layout, _) = try Self.write(BlockLayout.maxBlocks, size: 4080)
    #expect(try BlockList.decode(from: image, head: w.head, layout: layout).count == BlockLayout.maxBlocks)
    let extra = PhysAddr(0x9_0000_0000)
    image.zeroPage(extra.pfn(image.geometry))
    image.store(UInt64(1), at: extra.advanced(by: 8) ?? .zero)
    image.store(extra.rawValue, at: w.blocks[w.blocks.count - 1])
    expectError(image, w.head, layout, .limitExceeded, path: "/t/block[10000]", address: extra)
  }

  @Test func misalignedAndUncaptured() throws {
    let (image, w, layout, _) = try Self.write(300, size: 32)
    image.store(w.blocks[2].rawValue + 8, at: w.blocks[1])
    expectError(image, w.head, layout, .misaligned, path: "/t/block[2]", address: w.blocks[2].advanced(by: 8))
    image.store(UInt64(0x7_0000_0000), at: w.blocks[1])
    expectError(image, w.head, layout, .notCaptured, path: "/t/block[2]", address: 0x7_0000_0000)
  }

  @Test func lenientReadClampsAndContinues() throws {
    let (image, w, layout, data) = try Self.write(300, size: 32)
    image.store(UInt64(1000), at: w.blocks[0].advanced(by: 8) ?? .zero)
    image.store(UInt64(0), at: w.blocks[1].advanced(by: 8) ?? .zero)
    let report = BlockList.decodeReporting(from: image, head: w.head, layout: layout, path: "/t")
    #expect(report.problems.map(\.kind) == [.badCount, .badCount])
    #expect(report.problems.map(\.path) == ["/t/block[0]", "/t/block[1]"])
    let chain = try #require(report.value)
    #expect(chain.count == 127 + 46)
    #expect(Array(chain.entries.array[0..<127 * 32]) == Array(data[0..<127 * 32]))
    #expect(chain.address(ofEntry: 127) == w.blocks[2].advanced(by: 16))
  }

  @Test func emptyChain() throws {
    let layout = try #require(BlockLayout(entrySize: 80))
    let chain = try BlockList.decode(from: PhysicalImage(), head: .zero, layout: layout)
    #expect(chain.isEmpty)
    #expect(chain.blocks.isEmpty)
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore
import PropertyBased
import Testing

@testable import KHOFormats

@Suite("bitmap-chunks-v1")
struct BitmapChunkListTests {
  let g = PageGeometry.x86_64

  @Test func layoutConstants() {
    #expect(BitmapChunkList.entriesPerChunk(.x86_64) == 255)
    #expect(BitmapChunkList.entriesPerChunk(.arm64_16K) == 1023)
    #expect(BitmapChunkList.entriesPerChunk(.arm64_64K) == 4095)
  }

  @Test func emptySetIsAZeroHead() throws {
    var (image, alloc) = freshImage()
    let head = try BitmapChunkList.encode(PreservedSet(geometry: g), into: image, allocator: &alloc)
    #expect(head == .zero)
    #expect(alloc.allocated.isEmpty)
    #expect(try BitmapChunkList.decode(from: image, head: .zero).isEmpty)
  }

  @Test func layoutOfASmallList() throws {
    var s = PreservedSet(geometry: g)
    try s.insert(0x1_0000_0000, order: 0)
    try s.insert(0x1_0000_3000, order: 0)
    try s.insert(0x4000_0000, order: 9)
    var (image, alloc) = freshImage()
    let head = try BitmapChunkList.encode(s, into: image, allocator: &alloc)
    // Two bitmaps (order 0, order 9), then two chunks (one per order).
    #expect(alloc.allocated.count == 4)
    #expect(head == alloc.allocated[2])
    let c0 = alloc.allocated[2]
    #expect(try image.u64(at: c0) == alloc.allocated[3].rawValue)  // next
    #expect(try image.u64(at: PhysAddr(c0.rawValue + 8)) == 1 << 32)  // order 0, num_elms 1
    #expect(try image.u64(at: PhysAddr(c0.rawValue + 16)) == 0x1_0000_0000)  // 128 MiB aligned
    #expect(try image.u64(at: PhysAddr(c0.rawValue + 24)) == alloc.allocated[0].rawValue)
    #expect(try image.u64(at: alloc.allocated[0]) == 0b1001)  // pfn 0x100000 and 0x100003
    let c1 = alloc.allocated[3]
    #expect(try image.u64(at: c1) == 0)
    #expect(try image.u64(at: PhysAddr(c1.rawValue + 8)) == 9 | 1 << 32)
    #expect(try image.u64(at: PhysAddr(c1.rawValue + 16)) == 0)  // order 9 spans 64 GiB
    #expect(try image.u64(at: alloc.allocated[1]) == 0)  // bit 512 is in word 8
    #expect(try image.u64(at: PhysAddr(alloc.allocated[1].rawValue + 8 * (512 / 64))) == 1)
    #expect(try BitmapChunkList.decode(from: image, head: head) == s)
  }

  @Test func fullChunksContinueInAFreshChunk() throws {
    // 600 bitmaps of order 0: three chunks (255 + 255 + 90), then one of order 3.
    var s = PreservedSet(geometry: g)
    for i in 0..<600 as Range<UInt64> { try s.insert(pfn: i << 15 | (i & 0x7fff), order: 0) }
    try s.insert(pfn: 8, order: 3)
    var (image, alloc) = freshImage()
    let head = try BitmapChunkList.encode(s, into: image, allocator: &alloc)
    let r = BitmapChunkList.decodeReporting(from: image, head: head)
    #expect(r.isClean)
    #expect(r.value?.set == s)
    #expect(r.value?.chunkStats?.chunks == 4)
    #expect(r.value?.chunkStats?.chunkOrders == [0, 0, 0, 3])
    #expect(r.value?.chunkStats?.bitmaps == 601)
    #expect(r.value?.chunkStats?.setBits == 601)
  }

  @Test(arguments: [PageGeometry.x86_64, .arm64_16K, .arm64_64K])
  func roundTrip(geometry: PageGeometry) async {
    await propertyCheck(count: 12, input: Gen.uint64(), Gen.int(in: 0...5)) { seed, shape in
      let (s, _) = randomSet(seed: seed, shape: SetShape(rawValue: shape) ?? .everything, geometry: geometry)
      var (image, alloc) = freshImage(geometry)
      guard let head = try? BitmapChunkList.encode(s, into: image, allocator: &alloc) else {
        Issue.record("encode failed")
        return
      }
      let r = BitmapChunkList.decodeReporting(from: image, head: head)
      #expect(r.isClean)
      #expect(r.value?.set == s)
      #expect(r.value?.chunkStats?.setBits == s.count)
    }
  }

  @Test func conversionBothWays() async {
    await propertyCheck(count: 20, input: Gen.uint64(), Gen.int(in: 0...5)) { seed, shape in
      let (s, _) = randomSet(seed: seed, shape: SetShape(rawValue: shape) ?? .everything)
      var (v1, a1) = freshImage()
      guard let head = try? PreservedMemoryMap.encode(s, as: .bitmapChunksV1, into: v1, allocator: &a1),
        let fromV1 = try? PreservedMemoryMap.decode(.bitmapChunksV1, from: v1, at: head)
      else {
        Issue.record("v1 failed")
        return
      }
      var (v2, a2) = freshImage(start: 0x2_0000_0000)
      guard let root = try? PreservedMemoryMap.encode(fromV1, as: .radixV1, into: v2, allocator: &a2),
        let fromRadix = try? PreservedMemoryMap.decode(.radixV1, from: v2, at: root)
      else {
        Issue.record("radix failed")
        return
      }
      var (v1b, a1b) = freshImage()
      guard let head2 = try? PreservedMemoryMap.encode(fromRadix, as: .bitmapChunksV1, into: v1b, allocator: &a1b)
      else {
        Issue.record("back to v1 failed")
        return
      }
      #expect(fromRadix == s)
      // Same set, same allocator: the same bytes.
      #expect(head2 == head)
      #expect(pages(of: v1).map(\.1) == pages(of: v1b).map(\.1))
    }
  }

  // MARK: - Malformed input

  func small() throws -> (PhysicalImage, [PhysAddr], PhysAddr) {
    var s = PreservedSet(geometry: g)
    try s.insert(0x1_0000_0000, order: 0)
    try s.insert(0x4000_0000, order: 9)
    var (image, alloc) = freshImage()
    let head = try BitmapChunkList.encode(s, into: image, allocator: &alloc)
    return (image, alloc.allocated, head)  // [bitmap0, bitmap9, chunk0, chunk9]
  }

  func kinds(_ image: PhysicalImage, _ head: PhysAddr) -> [DecodeError.Kind] {
    BitmapChunkList.decodeReporting(from: image, head: head).problems.map(\.kind)
  }

  @Test func chunkPointerProblems() throws {
    let (image, pages, head) = try small()
    #expect(kinds(image, PhysAddr(head.rawValue + 8)) == [.misaligned])
    #expect(kinds(image, 0x9_0000_0000) == [.notCaptured])
    image.store(head.rawValue, at: pages[3])  // last chunk points back to the first
    let r = BitmapChunkList.decodeReporting(from: image, head: head)
    #expect(r.problems.map(\.kind) == [.cycle])
    #expect(r.problems.first?.path.rawValue == "/preserved-memory-map/chunks[2]")
    #expect(r.value?.set.count == 2)
    #expect(throws: DecodeError.self) { try BitmapChunkList.decode(from: image, head: head) }
  }

  @Test func numElmsOverThePage() throws {
    let (image, pages, head) = try small()
    image.store(UInt32(256), at: PhysAddr(pages[2].rawValue + 12))
    do {
      _ = try BitmapChunkList.decode(from: image, head: head)
      Issue.record("accepted 256 entries")
    } catch {
      #expect(error.kind == .badCount)
      #expect(error.address == PhysAddr(pages[2].rawValue + 12))
    }
    // Reporting mode reads the 255 that fit; the extra ones are zero entries.
    let r = BitmapChunkList.decodeReporting(from: image, head: head)
    #expect(r.problems.map(\.kind).first == .badCount)
    #expect(r.problems.dropFirst().allSatisfy { $0.kind == .missing })
    #expect(r.value?.set.count == 2)
  }

  @Test func entryProblems() throws {
    let (image, pages, head) = try small()
    let e0 = pages[2].rawValue + 16
    image.store(UInt64(0x1000_0000 + 0x1000), at: PhysAddr(e0))  // phys_start misaligned
    #expect(kinds(image, head) == [.misaligned])
    image.store(UInt64(0x1_0000_0000), at: PhysAddr(e0))
    image.store(pages[1].rawValue, at: PhysAddr(e0 + 8))  // the order-9 bitmap, used twice
    #expect(kinds(image, head) == [.duplicate])
    image.store(UInt64(0), at: PhysAddr(e0 + 8))
    #expect(kinds(image, head) == [.missing])
    image.store(UInt64(0x9_0000_0000), at: PhysAddr(e0 + 8))
    #expect(kinds(image, head) == [.notCaptured])
    image.store(pages[0].rawValue + 0x10, at: PhysAddr(e0 + 8))
    #expect(kinds(image, head) == [.misaligned])
    image.store(pages[0].rawValue, at: PhysAddr(e0 + 8))
    image.store(UInt32(60), at: PhysAddr(pages[2].rawValue + 8))  // order 60
    #expect(kinds(image, head) == [.outOfRange])
  }

  @Test func hugeOrderBitsPastTheAddressSpace() throws {
    var s = PreservedSet(geometry: g)
    try s.insert(0x8000_0000_0000_0000, order: 50)  // j = 2: the top of memory
    var (image, alloc) = freshImage()
    let head = try BitmapChunkList.encode(s, into: image, allocator: &alloc)
    #expect(try BitmapChunkList.decode(from: image, head: head) == s)
    image.store(UInt64(0b1_0100), at: alloc.allocated[0])  // j = 4: past 2^64
    let r = BitmapChunkList.decodeReporting(from: image, head: head)
    #expect(r.problems.map(\.kind) == [.outOfRange])
    #expect(r.value.map { Array($0.set) } == [PreservedEntry(0x8000_0000_0000_0000, order: 50)])
  }

  @Test func chainBoundIsDocumented() {
    #expect(BitmapChunkList.maxChunks == 1 << 20)
  }
}

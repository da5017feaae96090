// SPDX-License-Identifier: Apache-2.0
import KHOCore
import PropertyBased
import Testing

@testable import KHOFormats

@Suite("PreservedSet")
struct PreservedSetTests {
  let g = PageGeometry.x86_64

  @Test func insertContainsRemove() throws {
    var s = PreservedSet(geometry: g)
    #expect(s.isEmpty)
    let r1 = try s.insert(0x1_0000_0000, order: 0)
    #expect(r1)
    let r2 = try !s.insert(0x1_0000_0000, order: 0)
    #expect(r2)
    let r3 = try s.insert(0x4000_0000, order: 9)
    #expect(r3)
    let r3b = try s.insert(0x4000_0000, order: 0)  // overlapping entries are distinct
    #expect(r3b)
    #expect(s.count == 3)
    #expect(s.pageCount == 1 + 512 + 1)
    #expect(s.byteCount == (1 + 512 + 1) * 4096)
    #expect(s.orders == [0, 9])
    #expect(s.contains(0x4000_0000, order: 9))
    #expect(!s.contains(0x4000_0000, order: 8))
    #expect(s.contains(pfn: 0x40000 + 511))
    #expect(!s.contains(pfn: 0x40000 + 512))
    #expect(s.covering(pfn: 0x40000) == PreservedEntry(0x4000_0000, order: 0))
    #expect(s.covering(pfn: 0x40001) == PreservedEntry(0x4000_0000, order: 9))
    let r4 = s.remove(0x4000_0000, order: 9)
    #expect(r4)
    let r5 = s.remove(0x4000_0000, order: 9)
    #expect(!r5)
    #expect(s.count == 2)
    let r6 = s.remove(0x4000_0000, order: 0)
    #expect(r6)
    let r7 = s.remove(0x1_0000_0000, order: 0)
    #expect(r7)
    #expect(s.isEmpty)
    #expect(s == PreservedSet(geometry: g))
  }

  @Test func invalidEntriesAreRefused() {
    var s = PreservedSet(geometry: g)
    #expect(throws: EncodeError.self) { try s.insert(0x1000, order: 1) }  // misaligned
    #expect(throws: EncodeError.self) { try s.insert(0x1001, order: 0) }  // not page aligned
    #expect(throws: EncodeError.self) { try s.insert(0, order: 52) }  // 2^64 bytes
    #expect(throws: EncodeError.self) { try s.insert(0, order: -1) }
    #expect((try? s.insert(0x8000_0000_0000_0000, order: 51)) == true)  // the largest entry
    #expect(s.pageCount == 1 << 51)
    #expect(s.byteCount == 1 << 63)
    let r8 = s.remove(0x1001, order: 0)
    #expect(!r8)
  }

  @Test func kernelRangeSplit() {
    let pieces = PreservedEntry.split(pages: 3..<12, g)
    #expect(
      pieces == [
        PreservedEntry(0x3000, order: 0), PreservedEntry(0x4000, order: 2),
        PreservedEntry(0x8000, order: 2),
      ])
    #expect(PreservedEntry.split(pages: 0..<1024, g) == [PreservedEntry(0, order: 10)])
    #expect(PreservedEntry.split(pages: 5..<5, g).isEmpty)
    // Pieces tile the range exactly, each maximal.
    for (lo, hi) in [(1, 1000), (0x3ff, 0x40401), (0x12345, 0x98765)] as [(UInt64, UInt64)] {
      var next = lo
      for p in PreservedEntry.split(pages: lo..<hi, g) {
        #expect(p.pfn(g) == next)
        #expect(p.pfn(g) & (p.pageCount - 1) == 0)
        next += p.pageCount
      }
      #expect(next == hi)
    }
    var s = PreservedSet(geometry: g)
    #expect((try? s.preserve(pages: 0x40000..<0x40400)) != nil)
    #expect(s.entries(order: 10) == [PreservedEntry(0x4000_0000, order: 10)])
    let r9 = s.unpreserve(pages: 0x40000..<0x40400)
    #expect(r9 == 1)
    #expect(s.isEmpty)
    #expect(throws: EncodeError.self) { try s.preserve(pages: 0..<(1 << 53)) }
  }

  @Test func iterationIsSortedByAddressThenOrder() {
    var s = PreservedSet(geometry: g)
    let entries = [
      PreservedEntry(0x4000_0000, order: 9), PreservedEntry(0x4000_0000, order: 0),
      PreservedEntry(0x1000, order: 0), PreservedEntry(0xffff_ffff_f000, order: 0),
      PreservedEntry(0x40_0000_0000, order: 18), PreservedEntry(0, order: 51),
    ]
    for e in entries { _ = try? s.insert(e) }
    #expect(Array(s) == entries.sorted())
    var walk: [PreservedEntry] = []
    s.forEachInWalkOrder { walk.append($0) }
    #expect(walk.map(\.order) == [51, 18, 9, 0, 0, 0])
  }

  @Test(arguments: SetShape.allCases)
  func matchesOracle(shape: SetShape) async {
    await propertyCheck(count: 25, input: Gen.uint64()) { seed in
      let (s, oracle) = randomSet(seed: seed, shape: shape)
      #expect(s.count == oracle.count)
      #expect(Array(s) == oracle.sorted())
      #expect(s.pageCount == oracle.reduce(0) { $0 + $1.pageCount })
      for e in oracle.prefix(50) {
        #expect(s.contains(e))
        #expect(s.contains(pfn: e.pfn(g) + e.pageCount - 1))
      }
      // Removing everything in a different order empties it.
      var t = s
      for e in oracle.shuffled() {
        let gone = t.remove(e)
        #expect(gone)
      }
      #expect(t.isEmpty)
      #expect(t.count == 0)
    }
  }

  @Test func setAlgebraMatchesOracle() async {
    await propertyCheck(count: 30, input: Gen.uint64(), Gen.int(in: 0...5)) { seed, shape in
      let (a, oa) = randomSet(seed: seed, shape: SetShape(rawValue: shape) ?? .sparseMixed)
      let (b0, ob0) = randomSet(seed: seed &* 31, shape: .clusteredMixed)
      // Share some entries so the operations have overlap to work on.
      var b = b0
      var ob = ob0
      for e in oa.prefix(oa.count / 2) {
        _ = try? b.insert(e)
        ob.insert(e)
      }
      #expect(Array(a.union(b)) == oa.union(ob).sorted())
      #expect(Array(a.subtracting(b)) == oa.subtracting(ob).sorted())
      #expect(Array(a.intersection(b)) == oa.intersection(ob).sorted())
      #expect(Array(a.symmetricDifference(b)) == oa.symmetricDifference(ob).sorted())
      #expect(a.union(b).count == oa.union(ob).count)
      #expect(a.intersection(b).isSubset(of: a))
      #expect(a.union(b) == b.union(a))
    }
  }

  @Test func bulkInsertMatchesSingleInserts() async {
    // Frames drawn from a few clusters (dense, duplicates inside one group
    // of the bulk loop, chunks created mid-batch) and from far away (chunks
    // past the direct map), for every order up to 12.
    await propertyCheck(count: 40, input: Gen.uint64(), Gen.int(in: 0...12)) { seed, order in
      var rng = SplitMix(seed: seed)
      let bases: [UInt64] = [0, 1 << 20, 1 << 33, (1 << 51) - (1 << 16)]
      var pfns: [UInt64] = []
      for _ in 0..<Int(rng.next() % 3000) {
        let base = bases[Int(rng.next() % UInt64(bases.count))]
        let p = ((base + rng.next() % (1 << 17)) >> UInt64(order)) << UInt64(order)
        pfns.append(p)
        if rng.next() % 8 == 0 { pfns.append(p) }  // a duplicate right behind
      }
      var one = PreservedSet(geometry: g)
      var new = 0
      for p in pfns where (try? one.insert(pfn: p, order: order)) == true { new += 1 }
      var bulk = PreservedSet(geometry: g)
      let added = try? bulk.insert(pfns: pfns, order: order)
      #expect(added == new)
      #expect(bulk == one)
      #expect(bulk.count == one.count)
      // A sequence without contiguous storage takes the batching path.
      var lazy = PreservedSet(geometry: g)
      let addedLazy = try? lazy.insert(pfns: pfns.lazy.map { $0 }, order: order)
      #expect(addedLazy == new)
      #expect(lazy == one)
      // Inserting again adds nothing.
      #expect((try? bulk.insert(pfns: pfns, order: order)) == 0)
    }
  }

  @Test func bulkInsertStopsAtTheFirstInvalidFrame() throws {
    var s = PreservedSet(geometry: g)
    // 0x201 is not aligned to order 9: 0x0 and 0x200 stay inserted, 0x400 is not reached.
    #expect(throws: EncodeError.self) { try s.insert(pfns: [0x0, 0x200, 0x201, 0x400], order: 9) }
    #expect(Array(s) == [PreservedEntry(0x0, order: 9), PreservedEntry(0x20_0000, order: 9)])
    // A frame beyond 64-bit addresses.
    #expect(throws: EncodeError.self) { try s.insert(pfns: [0x5, 1 << 52], order: 0) }
    #expect(s.contains(pfn: 0x5, order: 0))
    #expect(throws: EncodeError.self) { try s.insert(pfns: [0x5], order: 52) }
    #expect(throws: EncodeError.self) { try s.insert(pfns: [0x5], order: -1) }
    #expect(s.count == 3)
  }

  @Test func equalityIgnoresHistory() throws {
    var a = PreservedSet(geometry: g)
    var b = PreservedSet(geometry: g)
    try a.insert(0x1000, order: 0)
    try a.insert(0x10_0000_0000, order: 0)
    try b.insert(0x10_0000_0000, order: 0)
    try b.insert(0x2000_0000, order: 0)
    b.remove(0x2000_0000, order: 0)
    try b.insert(0x1000, order: 0)
    #expect(a == b)
    try b.insert(0x2000, order: 0)
    #expect(a != b)
  }

  @Test func denseSetIsCompact() throws {
    // 2^18 random order-0 pages over 2^20 frames: a quarter of the pages.
    var rng = SplitMix(seed: 7)
    var s = PreservedSet(geometry: g)
    for _ in 0..<(1 << 18) { try s.insert(pfn: rng.next() & ((1 << 20) - 1), order: 0) }
    // 32 chunks of 4 KiB each: about half a byte per entry.
    #expect(s.memoryBytes < 2 * (1 << 20) / 8 + 64 * 1024)
  }
}

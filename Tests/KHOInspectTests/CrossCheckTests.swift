// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats
import KHOImage
import Testing

@testable import KHOInspect

@Suite("Walker cross-checks")
struct CrossCheckTests {
  /// A kho-v4 root over a radix map of `entries`; the root page and a
  /// sub-blob page are preserved unless told otherwise.
  static func handover(_ entries: [PreservedEntry], preserveBlob: Bool = true, scratch: [PhysRange]? = nil)
    throws -> HandoverSource
  {
    let image = PhysicalImage()
    var alloc = PageAllocator(start: 0x1_0000_0000, pages: 1024)
    let rootPage = try alloc.allocate(in: image)
    let blob = try alloc.allocate(in: image)
    image.write(Array("opaque-v1".utf8) + [0], at: blob)
    var set = try PreservedSet(entries)
    _ = try set.insert(rootPage, order: 0)
    if preserveBlob { _ = try set.insert(blob, order: 0) }
    let map = try RadixTree.encode(set, into: image, allocator: &alloc)
    let root = KHORoot(version: .v4, memoryMap: map, subBlobs: [KHOSubBlob(name: "thing", address: blob, size: 10)])
    image.write(try root.encode(), at: rootPage)
    return HandoverSource(capturing: image, root: rootPage, rootBytes: nil, scratch: scratch, path: "t")
  }

  @Test("a clean map with several orders has no overlap")
  func clean() throws {
    let r = HandoverWalker(
      source: try Self.handover([
        PreservedEntry(0x20_0000, order: 9), PreservedEntry(0x40_0000, order: 0), PreservedEntry(0x40_2000, order: 1),
      ])
    ).walk()
    #expect(r.problems.isEmpty, "\(r.problems)")
    #expect(r.components.first?.compatible == "opaque-v1")
    #expect(r.components.first?.status == .opaque)
  }

  @Test("an order-0 page inside an order-9 folio is an overlap, located")
  func overlap() throws {
    let r = HandoverWalker(
      source: try Self.handover([
        PreservedEntry(0x20_0000, order: 9), PreservedEntry(0x20_3000, order: 0),
      ])
    ).walk()
    let p = try #require(r.problems.first { $0.kind == "overlap" })
    #expect(p.address == 0x20_0000)
    #expect(p.path == "/preserved-memory-map")
    #expect(p.message.contains("0x200000 9") && p.message.contains("0x203000 0"))
  }

  @Test("scratch holding preserved memory is reported")
  func scratchOverlap() throws {
    let r = HandoverWalker(
      source: try Self.handover(
        [PreservedEntry(0x20_0000, order: 9)],
        scratch: [PhysRange(start: 0x1000, size: 0x1000), PhysRange(start: 0x2f_f000, size: 0x10_0000)])
    ).walk()
    let hits = r.problems.filter { $0.kind == "scratchOverlap" }
    #expect(hits.count == 1)
    #expect(hits.first?.path == "/scratch[1]")
  }

  @Test("a sub-blob that is not preserved is reported")
  func notPreserved() throws {
    let r = HandoverWalker(source: try Self.handover([], preserveBlob: false)).walk()
    let p = try #require(r.problems.first { $0.kind == "notPreserved" })
    #expect(p.path == "/thing")
    #expect(p.address == 0x1_0000_1000)
  }

  @Test("PreservedSet range queries find the first overlapping entry")
  func rangeQuery() throws {
    let set = try PreservedSet([PreservedEntry(0x20_0000, order: 9), PreservedEntry(0x8000_0000, order: 0)])
    #expect(set.firstEntry(order: 9, overlapping: 0x200..<0x201)?.phys == 0x20_0000)
    #expect(set.firstEntry(order: 9, overlapping: 0x3ff..<0x400)?.phys == 0x20_0000)
    #expect(set.firstEntry(order: 9, overlapping: 0x400..<0x500) == nil)
    #expect(set.firstEntry(order: 0, overlapping: 0..<0x8_0000) == nil)
    #expect(set.firstEntry(order: 0, overlapping: 0..<0x8_0001)?.phys == 0x8000_0000)
    #expect(set.firstEntry(order: 0, overlapping: 0x8_0001..<0x9_0000) == nil)
  }
}

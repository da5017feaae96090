// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import PropertyBased
import Testing
import XArray

@testable import KHOFormats

@Suite("kho-xarray-v2")
struct KHOXArrayV2Tests {
  /// A small structure with every leaf kind, a stored 0, marks and ranges.
  static func sample() -> XArray<UInt64> {
    var x = XArray<UInt64>()
    for i in 0..<UInt64(512) { x[i] = i * 2 }  // dense leaf, with a 0 at 0
    x[600] = 0  // packed leaf: a stored zero
    x[601] = 7
    x.setMark(.mark0, at: 601)
    x.store(0xabc, order: 2, at: 604)  // sub-block range 604...607
    x.setMark(.mark2, at: 605)
    for i in stride(from: UInt64(1024), to: 1536, by: 1) where i % 100 != 0 { x[i] = i }  // wide
    x.store(0x5555, order: 10, at: 4096)  // range over two leaf blocks
    x.setMark(.mark1, at: 4096)
    x[1 << 40] = 42
    return x
  }

  @Test("round trip with zeros, marks and ranges", arguments: [PageGeometry.x86_64, .arm64_16K, .arm64_64K])
  func roundTrip(g: PageGeometry) throws {
    let x = Self.sample()
    var (image, alloc) = xarrayImage(g)
    let at = try KHOXArrayV2.encode(x, into: image, allocator: &alloc)
    let view = try KHOXArrayV2View(memory: image, at: at)
    #expect(view.header.count == UInt64(x.count))
    #expect(view.header.keyBits == 41)
    #expect(view.makeXArray() == x)
    #expect(view.load(0) == 0 && view.load(600) == 0 && view.load(602) == nil)
    #expect(view.load(606) == 0xabc && view.range(at: 606) == 604...607)
    #expect(view.load(5000) == 0x5555 && view.range(at: 5000) == 4096...5119)
    #expect(view.marks(at: 605) == [.mark2])
    #expect(view.firstIndex(from: 0, marked: .mark1) == 4096)
    #expect(view.firstIndex(from: 4097, marked: .mark1) == 4097)
    #expect(view.entries(marked: .mark0).map(\.index) == [601])
    #expect(view.lastIndex(through: 1 << 39) == 5119)
    #expect(view.lastIndex(through: .max, marked: .mark2) == 607)
    #expect(try KHOXArrayV2.decode(from: image, at: at) == x)
  }

  @Test("leaf kinds chosen by density")
  func leafKinds() throws {
    var (image, alloc) = xarrayImage()
    let at = try KHOXArrayV2.encode(Self.sample(), into: image, allocator: &alloc)
    let view = try KHOXArrayV2View(memory: image, at: at)
    let kinds = view.shadow.leaves.map(\.kind)
    #expect(kinds.contains(.dense) && kinds.contains(.packed) && kinds.contains(.wide))
  }

  @Test("dense data takes as many pages as v1")
  func compactness() throws {
    var x = XArray<UInt64>()
    for i in 0..<UInt64(1 << 17) { x[i] = i + 1 }
    var (i1, a1) = xarrayImage()
    _ = try KHOXArrayV1.encode(x, into: i1, allocator: &a1)
    var (i2, a2) = xarrayImage()
    _ = try KHOXArrayV2.encode(x, into: i2, allocator: &a2)
    // v1: 256 leaves + 1 level-1 table + 4 single-child tables above.
    #expect(i1.pageCount == 256 + 5)
    // v2: 256 leaves + 1 node + the header page.
    #expect(i2.pageCount == 256 + 2)
  }

  @Test("empty array and one range covering everything")
  func extremes() throws {
    var (image, alloc) = xarrayImage()
    let at = try KHOXArrayV2.encode(XArray(), into: image, allocator: &alloc)
    #expect(try KHOXArrayV2.decode(from: image, at: at).isEmpty)
    var all = XArray<UInt64>()
    all.store(9, order: 64, at: 0)
    all.setMark(.mark0, at: 77)
    var (i2, a2) = xarrayImage()
    let at2 = try KHOXArrayV2.encode(all, into: i2, allocator: &a2)
    let v = try KHOXArrayV2View(memory: i2, at: at2)
    #expect(v.load(.max) == 9 && v.count == 1)
    #expect(v.makeXArray() == all)
  }

  @Test("a corrupted page is detected and located")
  func corruption() throws {
    var (image, alloc) = xarrayImage()
    let at = try KHOXArrayV2.encode(Self.sample(), into: image, allocator: &alloc)
    // Flip one byte in every page in turn: each must fail, naming a page.
    for pfn in image.pageNumbers {
      // The header page holds only the 64-byte header: flip a byte in it.
      let addr = PhysAddr(pfn << 12 + (pfn == at.pfn(.x86_64) ? 20 : 100))
      let old = try image.bytes(at: addr, count: 1).array[0]
      image.write([old ^ 0x40], at: addr)
      do {
        _ = try KHOXArrayV2View(memory: image, at: at)
        Issue.record("corruption of page \(pfn) not detected")
      } catch {
        #expect(error.address != nil)
        // A wide leaf's two pages share one checksum, reported at its first.
        if pfn != at.pfn(.x86_64), let got = error.address?.pfn(.x86_64) {
          #expect(got == pfn || got == pfn - 1)
        }
      }
      image.write([old], at: addr)
    }
    #expect(throws: Never.self) { try KHOXArrayV2View(memory: image, at: at) }
  }

  @Test("header errors")
  func headerErrors() throws {
    var (image, alloc) = xarrayImage()
    let at = try KHOXArrayV2.encode(Self.sample(), into: image, allocator: &alloc)
    func kind(_ edit: () -> Void, _ undo: () -> Void) -> DecodeError.Kind? {
      edit()
      defer { undo() }
      do {
        _ = try KHOXArrayV2View(memory: image, at: at)
        return nil
      } catch { return error.kind }
    }
    let magic = try image.bytes(at: at, count: 4).array
    #expect(kind({ image.write(magic.reversed(), at: at) }, { image.write(magic, at: at) }) == .badMagic)
    #expect(
      kind(
        { image.store(UInt16(3), at: PhysAddr(at.rawValue + 4)) },
        { image.store(UInt16(2), at: PhysAddr(at.rawValue + 4)) }) == .unknownVersion)
    #expect(
      kind(
        { image.store(UInt8(7), at: PhysAddr(at.rawValue + 8)) },
        { image.store(UInt8(3), at: PhysAddr(at.rawValue + 8)) }) == .inconsistent)
    let v16 = try? KHOXArrayV2View(memory: imageFromDump(pageDump(image, alloc), .arm64_16K), at: at)
    #expect(v16 == nil)
  }

  @Test(
    "golden vectors decode and re-encode byte for byte",
    arguments: [
      "sample-4k.bin", "pfn-set-4k.bin", "memfd-folios-4k.bin", "sparse-4k.bin", "pfn-set-paired-4k.bin",
      "sparse-paired-4k.bin",
    ])
  func golden(name: String) throws {
    let x =
      name.hasPrefix("sample")
      ? Self.sample() : name.hasPrefix("pfn") ? pfnSet() : name.hasPrefix("sparse") ? Self.sparseSmall() : memfdFolios()
    let layout: KHOXArrayV2.ListLayout = name.contains("paired") ? .paired : .separate
    let url = xarrayVectorURL("kho-xarray-v2", name)
    var (image, alloc) = xarrayImage()
    _ = try KHOXArrayV2.encode(x, into: image, allocator: &alloc, lists: layout)
    if ProcessInfo.processInfo.environment["KHO_WRITE_VECTORS"] != nil {
      try Data(pageDump(image, alloc)).write(to: url)
    }
    let golden = try [UInt8](Data(contentsOf: url))
    let view = try KHOXArrayV2View(memory: imageFromDump(golden), at: xarrayVectorBase)
    #expect((view.header.flags & KHOXArrayV2.flagPairedLists != 0) == (layout == .paired))
    let decoded = try KHOXArrayV2.decode(from: imageFromDump(golden), at: xarrayVectorBase)
    #expect(decoded == x)
    var (again, alloc2) = xarrayImage()
    _ = try KHOXArrayV2.encode(decoded, into: again, allocator: &alloc2, lists: layout)
    #expect(pageDump(again, alloc2) == golden)
  }

  @Test("the PFN set as written before list leaves still decodes")
  func treeFormVector() throws {
    // pfn-set-tree-4k.bin is the same set in tree form (packed leaves under
    // nodes), as the encoder wrote it before list leaves: readers keep
    // reading it, and its header has no list flag.
    let golden = try [UInt8](Data(contentsOf: xarrayVectorURL("kho-xarray-v2", "pfn-set-tree-4k.bin")))
    let view = try KHOXArrayV2View(memory: imageFromDump(golden), at: xarrayVectorBase)
    #expect(view.header.flags & KHOXArrayV2.flagHasLists == 0)
    #expect(!view.shadow.leaves.contains { $0.kind == .list })
    #expect(view.makeXArray() == pfnSet())
  }

  @Test("memfd folio list with a huge folio, kept as a kho-xarray")
  func memfdUseCase() throws {
    let folios = memfdFolios()
    var (image, alloc) = xarrayImage()
    let at = try KHOXArrayV2.encode(folios, into: image, allocator: &alloc)
    let view = try KHOXArrayV2View(memory: image, at: at)
    // Every page offset of the file maps to the pfn of its folio.
    #expect(view.load(700) == 0x20_0000 && view.range(at: 700) == 512...1023)
    #expect(view.load(63) == 0x10_0000 + 63 * 3)
    #expect(view.load(64) == nil)
    #expect(view.count == folios.count)
    #expect(view.makeXArray() == folios)
  }

  @Test("sparse PFN set with marks")
  func pfnSetUseCase() throws {
    let set = pfnSet()
    var (image, alloc) = xarrayImage()
    let at = try KHOXArrayV2.encode(set, into: image, allocator: &alloc)
    let view = try KHOXArrayV2View(memory: image, at: at)
    let scrub = view.entries(marked: .mark1).map(\.index)
    #expect(scrub == Array(set.entries(marked: .mark1)).map(\.index))
    #expect(scrub.count == 14)
    #expect(view.load(0x8_0000) == 0)  // a stored zero, not absence
    #expect(view.makeXArray() == set)
    // The set is one list of 700 entries: lookups go through its fences
    // (every 64th index) and then one run of the page.
    #expect(view.shadow.leaves.map(\.kind) == [.list])
    #expect(view.shadow.fences.count == 11)
    var wrong: [UInt64] = []
    for (k, v) in set {
      if view.load(k) != v { wrong.append(k) }
      if view.load(k + 1) != set[k + 1] || view.load(k &- 1) != set[k &- 1] { wrong.append(k) }
      if view.firstIndex(from: k + 1) != set.firstIndex(from: k + 1) { wrong.append(k) }
    }
    #expect(wrong == [])
    #expect(view.load(0) == nil && view.load(.max) == nil)
  }

  @Test("lookup tables agree with the store on every key", arguments: [PageGeometry.x86_64, .arm64_16K, .arm64_64K])
  func lookupTables(g: PageGeometry) throws {
    // Keys close together, so that the view builds its block and word
    // tables; every leaf kind, stored zeros, sub-block and multi-block
    // ranges, and empty blocks between leaves.
    var x = Self.sample()
    x[1 << 40] = nil
    var rng = SplitMix(seed: 0x5eed)
    for _ in 0..<6000 {
      let k = 8192 + rng.next() % 60_000
      x[k] = rng.next() % 4 == 0 ? 0 : rng.next()
    }
    x.store(0x77, order: 3, at: 40_000)
    for k in stride(from: UInt64(90_000), to: 90_000 + 4096, by: 1) { x[k] = k }
    var (image, alloc) = xarrayImage(g)
    let at = try KHOXArrayV2.encode(x, into: image, allocator: &alloc)
    let view = try KHOXArrayV2View(memory: image, at: at)
    #expect(view.shadow.blockTable != nil)
    #expect(view.shadow.wordTable != nil)
    var mismatches: [UInt64] = []
    for k in UInt64(0)..<100_000 where view.load(k) != x[k] { mismatches.append(k) }
    #expect(Array(mismatches.prefix(5)) == [], "\(mismatches.count) keys differ")
    #expect(view.load(100_000 + 1 << 30) == nil)
  }

  /// The golden vector of list leaves: a range at 0 keeps the root and its
  /// first subtree trees; two keys sharing a level-3 slot and eight keys in
  /// root slot 1 become lists; lone keys stay in packed leaves.
  static func sparseSmall() -> XArray<UInt64> {
    var x = XArray<UInt64>()
    x.store(0xaaaa, order: 3, at: 0)
    for (i, k) in [0x1234_5678, 0x1_0000_0000, 0x1_0000_8000, 0x7_dead_beef].enumerated() {
      x[UInt64(k)] = UInt64(i) * 0x1111
    }
    for k in stride(from: UInt64(0x3_0000_0000), to: 0x3_0000_0000 + 8 * 0x2000, by: 0x2000) { x[k] = k >> 13 }
    x.setMark(.mark1, at: 0x1_0000_8000)
    x[0x7_dead_beef] = 0
    return x
  }

  /// 4096 random 48-bit keys with stored zeros and marks.
  static func sparse() -> XArray<UInt64> {
    var x = XArray<UInt64>()
    var rng = SplitMix(seed: 0x11575)
    for i in 0..<4096 {
      let k = rng.next() & 0xffff_ffff_ffff
      x[k] = i % 5 == 0 ? 0 : rng.next()
      if i % 3 == 0 { x.setMark(.mark0, at: k) }
      if i % 64 == 1 { x.setMark(.mark2, at: k) }
    }
    return x
  }

  @Test(
    "sparse keys take list leaves, not a page each", arguments: [PageGeometry.x86_64, .arm64_16K, .arm64_64K],
    KHOXArrayV2.ListLayout.allCases)
  func listLeaves(g: PageGeometry, lists: KHOXArrayV2.ListLayout) throws {
    let x = Self.sparse()
    var (image, alloc) = xarrayImage(g)
    let at = try KHOXArrayV2.encode(x, into: image, allocator: &alloc, lists: lists)
    let view = try KHOXArrayV2View(memory: image, at: at)
    #expect(view.header.flags & KHOXArrayV2.flagHasLists != 0)
    #expect((view.header.flags & KHOXArrayV2.flagPairedLists != 0) == (lists == .paired))
    #expect(view.shadow.leaves.allSatisfy { $0.kind == .list })
    // 16 bytes per entry and 3 mark bits, in whole pages, plus the nodes
    // above and the header; without lists, 4096 leaf pages and more.
    let entryBytes = KHOXArrayV2.listBytes(count: x.count)
    #expect(image.pageCount * g.pageSize < 2 * entryBytes + 64 * g.pageSize)
    #expect(view.makeXArray() == x)
    var rng = SplitMix(seed: 7)
    for e in x.prefix(600) {
      #expect(view.load(e.index) == e.element)
      #expect(view.marks(at: e.index) == x.marks(at: e.index))
      let k = e.index &+ 1 + rng.next() % 1000
      #expect(view.load(k) == x[k])
      for m in [nil, XArrayMark.mark0, .mark2] {
        #expect(view.firstIndex(from: k, marked: m) == x.firstIndex(from: k, marked: m))
        #expect(view.lastIndex(through: k, marked: m) == x.lastIndex(through: k, marked: m))
      }
    }
    #expect(view.lastIndex(through: .max) == x.lastIndex(through: .max))
    #expect(view.firstIndex(from: 0, marked: .mark1) == nil)
  }

  @Test("a subtree stays a tree when a list would not be smaller")
  func listOnlyWhenSmaller() throws {
    // One key far out: a list page against a chain of nodes and a leaf is
    // not fewer pages than its one leaf block, so the tree form stays.
    var one = XArray<UInt64>()
    one[1 << 40] = 1
    var (i1, a1) = xarrayImage()
    let at1 = try KHOXArrayV2.encode(one, into: i1, allocator: &a1)
    #expect(try KHOXArrayV2View(memory: i1, at: at1).shadow.leaves.map(\.kind) == [.packed])
    // A range anywhere in a subtree keeps it a tree.
    var x = Self.sparse()
    x.store(5, order: 3, at: 0x1000)
    var (i2, a2) = xarrayImage()
    let at2 = try KHOXArrayV2.encode(x, into: i2, allocator: &a2)
    let v = try KHOXArrayV2View(memory: i2, at: at2)
    #expect(v.shadow.leaves.contains { $0.kind == .list })
    #expect(v.shadow.leaves.contains { $0.kind == .packed })
    #expect(v.makeXArray() == x)
    #expect(v.range(at: 0x1003) == 0x1000...0x1007)
  }

  /// The error opening the structure at `at` gives (checksums off) with
  /// `bytes` written at `addr`, which are put back afterwards.
  static func openError(_ image: PhysicalImage, _ at: PhysAddr, patching addr: PhysAddr, with bytes: [UInt8])
    -> DecodeError?
  {
    let old = (try? image.bytes(at: addr, count: bytes.count).array) ?? []
    image.write(bytes, at: addr)
    defer { image.write(old, at: addr) }
    do {
      _ = try KHOXArrayV2View(memory: image, at: at, verifyChecksums: false)
      return nil
    } catch { return error }
  }

  @Test("malformed list leaves are refused, naming what and where")
  func listErrors() throws {
    var x = XArray<UInt64>()
    for k in stride(from: UInt64(0), to: 40 * 4096, by: 4096) { x[k + 7] = k }
    x.setMark(.mark1, at: 7)
    var (image, alloc) = xarrayImage()
    let at = try KHOXArrayV2.encode(x, into: image, allocator: &alloc)
    // Depth 2, the root itself is the list: 40 entries in 40 blocks.
    let view = try KHOXArrayV2View(memory: image, at: at)
    #expect(view.header.rootKind == .listLeaf)
    let list = PhysAddr(at.rawValue + 4096)
    let keys = 16 + 24  // one word per mark bitmap
    func error(_ offset: Int, _ bytes: [UInt8]) -> DecodeError? {
      Self.openError(image, at, patching: PhysAddr(list.rawValue + UInt64(offset)), with: bytes)
    }
    func le(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    // Keys out of order: the second key below the first.
    let unordered = error(keys + 8, le(3))
    #expect(unordered?.kind == .inconsistent)
    #expect(unordered?.address == PhysAddr(list.rawValue + UInt64(keys + 8)))
    #expect(error(keys, le(1 << 40))?.kind == .outOfRange)
    #expect(error(0, [0x2c, 0x01])?.kind == .badCount)  // 300 entries need two pages
    #expect(error(4, [2])?.kind == .badCount)
    #expect(error(4, [65])?.kind == .outOfRange)
    #expect(error(8, [1])?.kind == .unsupported)
    #expect(error(16 + 8, [0, 0, 0, 0, 0, 1])?.kind == .inconsistent)  // mark1 beyond entry 40
    #expect(error(16, [1])?.kind == .inconsistent)  // mark0, where the summary says mark1 only
    #expect(error(4000, [1])?.kind == .inconsistent)  // after the values
    #expect(error(0, [0])?.kind == .badCount)
    // With checksums, any flipped byte is caught at the list's page.
    let addr = PhysAddr(list.rawValue + 100)
    let old = try image.bytes(at: addr, count: 1).array
    image.write([old[0] ^ 1], at: addr)
    #expect(throws: DecodeError.self) { try KHOXArrayV2View(memory: image, at: at) }
    image.write(old, at: addr)
    #expect(try KHOXArrayV2View(memory: image, at: at).makeXArray() == x)
  }

  /// The paired layout: entry i's index at 16i past the mark bitmaps and
  /// its value right after it; the same checks as the separate layout.
  @Test("paired list leaves: layout and errors")
  func pairedListLayout() throws {
    var x = XArray<UInt64>()
    for k in stride(from: UInt64(0), to: 40 * 4096, by: 4096) { x[k + 7] = k | 0xff }
    var (image, alloc) = xarrayImage()
    let at = try KHOXArrayV2.encode(x, into: image, allocator: &alloc, lists: .paired)
    let view = try KHOXArrayV2View(memory: image, at: at)
    #expect(view.header.rootKind == .listLeaf)
    #expect(view.header.flags == KHOXArrayV2.flagHasLists | KHOXArrayV2.flagPairedLists)
    let list = PhysAddr(at.rawValue + 4096)
    let pairs = 16 + 24
    #expect(KHOXArrayV2.listOffsets(count: 40, .paired) == (pairs, pairs + 8, 16))
    for i in 0..<40 {
      let index = try image.u64(at: PhysAddr(list.rawValue + UInt64(pairs + 16 * i)))
      let value = try image.u64(at: PhysAddr(list.rawValue + UInt64(pairs + 16 * i + 8)))
      #expect(index == UInt64(i) * 4096 + 7 && value == UInt64(i) * 4096 | 0xff)
      #expect(view.load(index) == value)
    }
    #expect(view.makeXArray() == x)
    func error(_ offset: Int, _ bytes: [UInt8]) -> DecodeError? {
      Self.openError(image, at, patching: PhysAddr(list.rawValue + UInt64(offset)), with: bytes)
    }
    func le(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    // The second index below the first; a value may be anything.
    let unordered = error(pairs + 16, le(3))
    #expect(unordered?.kind == .inconsistent)
    #expect(unordered?.address == PhysAddr(list.rawValue + UInt64(pairs + 16)))
    #expect(error(pairs + 8, le(1 << 40)) == nil)
    #expect(error(pairs + 16 * 40, [1])?.kind == .inconsistent)  // after the last pair
    // The header's flags must match the content: paired without lists, or
    // a paired structure read as separate, is refused.
    var (plain, alloc2) = xarrayImage()
    var y = XArray<UInt64>()
    for i in 0..<UInt64(600) { y[i] = i }
    let at2 = try KHOXArrayV2.encode(y, into: plain, allocator: &alloc2, lists: .paired)
    #expect(try KHOXArrayV2View(memory: plain, at: at2).header.flags == 0)
    plain.write([KHOXArrayV2.flagPairedLists], at: PhysAddr(at2.rawValue + 9))
    #expect(throws: DecodeError.self) { try KHOXArrayV2View(memory: plain, at: at2, verifyChecksums: false) }
    image.write([KHOXArrayV2.flagHasLists], at: PhysAddr(at.rawValue + 9))
    #expect(throws: DecodeError.self) { try KHOXArrayV2View(memory: image, at: at, verifyChecksums: false) }
  }

  @Test("random arrays: view agrees with the in-memory store")
  func property() async {
    await propertyCheck(count: 40, input: Gen.uint64().array(of: 0...300)) { raw in
      var x = XArray<UInt64>()
      var model = ReferenceModelU64()
      for r in raw {
        let k = (r & 7 == 0) ? r >> 4 : (r >> 40) % 5000
        switch r % 5 {
        case 0: x.store(r, order: Int((r >> 8) % 12), at: k)
        case 1: x.setMark(XArrayMark(rawValue: Int(r >> 9) % 3)!, at: k)
        default: x[k] = r >> 50
        }
      }
      model.x = x
      var (image, alloc) = xarrayImage()
      let lists: KHOXArrayV2.ListLayout = raw.count % 2 == 0 ? .separate : .paired
      guard let at = try? KHOXArrayV2.encode(x, into: image, allocator: &alloc, lists: lists),
        let view = try? KHOXArrayV2View(memory: image, at: at)
      else {
        #expect(Bool(false))
        return
      }
      #expect(view.makeXArray() == x)
      for r in raw.prefix(40) {
        let k = (r >> 40) % 5200
        let m = XArrayMark(rawValue: Int(r % 3))!
        #expect(view.load(k) == x[k])
        #expect(view.firstIndex(from: k) == x.firstIndex(from: k))
        #expect(view.lastIndex(through: k) == x.lastIndex(through: k))
        #expect(view.firstIndex(from: k, marked: m) == x.firstIndex(from: k, marked: m))
        #expect(view.lastIndex(through: k, marked: m) == x.lastIndex(through: k, marked: m))
      }
    }
  }
}

struct ReferenceModelU64 { var x = XArray<UInt64>() }

// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import PropertyBased
import Testing
import XArray

@testable import KHOFormats

@Suite("kho-xarray-v1")
struct KHOXArrayV1Tests {
  static func sample() -> XArray<UInt64> {
    var x = XArray<UInt64>()
    for i in 0..<UInt64(10) { x[i] = 0x1000 + i }
    x[511] = 0xdead
    x[512] = 0xbeef
    x[(1 << 54) - 1] = 0x5a5a
    return x
  }

  @Test("depth follows the page size")
  func depth() {
    #expect(KHOXArrayV1.depth(.x86_64) == 6)
    #expect(KHOXArrayV1.depth(.arm64_16K) == 5)
    #expect(KHOXArrayV1.depth(.arm64_64K) == 5)
  }

  @Test("round trip, page layout and view", arguments: [PageGeometry.x86_64, .arm64_16K, .arm64_64K])
  func roundTrip(g: PageGeometry) throws {
    let x = Self.sample()
    var (image, alloc) = xarrayImage(g)
    let root = try KHOXArrayV1.encode(x, into: image, allocator: &alloc)
    #expect(root == xarrayVectorBase)
    let decoded = try KHOXArrayV1.decode(from: image, root: root)
    #expect(decoded == x)
    let view = try KHOXArrayV1View(memory: image, root: root)
    #expect(view.count == x.count)
    for (k, v) in x { #expect(view.load(k) == v) }
    #expect(view.load(10) == nil && view.load(513) == nil)
    #expect(view.firstIndex(from: 10) == 511)
    #expect(view.lastIndex(through: 510) == 9)
    #expect(view.firstIndex(from: 513) == (1 << 54) - 1)
    // The leaf of keys 0..<512 (4K): the last table allocated on key 0's path.
    if g == .x86_64 {
      let leaf = PhysAddr(xarrayVectorBase.rawValue + 5 * 4096)
      #expect(try image.u64(at: leaf) == 0x1000)
      #expect(try image.u64(at: PhysAddr(leaf.rawValue + 511 * 8)) == 0xdead)
      #expect(image.pageCount == 6 + 1 + 5)
    }
  }

  @Test("empty array encodes as a null root")
  func empty() throws {
    var (image, alloc) = xarrayImage()
    let root = try KHOXArrayV1.encode(XArray(), into: image, allocator: &alloc)
    #expect(root == .zero)
    #expect(try KHOXArrayV1.decode(from: image, root: root).isEmpty)
  }

  @Test("the encoder refuses what v1 cannot say")
  func refusals() {
    func kind(_ x: XArray<UInt64>) -> EncodeError.Kind? {
      var (image, alloc) = xarrayImage()
      do {
        _ = try KHOXArrayV1.encode(x, into: image, allocator: &alloc)
        return nil
      } catch { return error.kind }
    }
    var zero = XArray<UInt64>()
    zero[3] = 0
    #expect(kind(zero) == .notRepresentable)
    var wide = XArray<UInt64>()
    wide[1 << 54] = 1
    #expect(kind(wide) == .outOfRange)
    var ranged = XArray<UInt64>()
    ranged.store(1, order: 3, at: 8)
    #expect(kind(ranged) == .notRepresentable)
    var marked = XArray<UInt64>()
    marked[1] = 1
    marked.setMark(.mark0, at: 1)
    #expect(kind(marked) == .notRepresentable)
  }

  @Test("bad pointers are located errors")
  func badPointers() throws {
    let x = Self.sample()
    func corrupt(_ edit: (PhysicalImage) -> Void) -> DecodeError? {
      var (image, alloc) = xarrayImage()
      guard let root = try? KHOXArrayV1.encode(x, into: image, allocator: &alloc) else { return nil }
      edit(image)
      do {
        _ = try KHOXArrayV1View(memory: image, root: root)
        return nil
      } catch { return error }
    }
    let slot0 = xarrayVectorBase  // root slot 0 -> level-4 table
    let mis = corrupt { $0.store(UInt64(0x10_1008), at: slot0) }
    #expect(mis?.kind == .misaligned && mis?.address == slot0)
    let gone = corrupt { $0.store(UInt64(0x7000_0000), at: slot0) }
    #expect(gone?.kind == .notCaptured)
    #expect(gone?.path == "/xarray[0]")
    // A leaf-level slot pointing back at the root: a cycle.
    let cyc = corrupt { $0.store(xarrayVectorBase.rawValue, at: PhysAddr(0x10_1000)) }
    #expect(cyc?.kind == .cycle)
    let misRoot = try? KHOXArrayV1View(memory: PhysicalImage(), root: PhysAddr(0x1234))
    #expect(misRoot == nil)
  }

  @Test("keys above 54 bits are refused with 16 KiB pages")
  func wideKeys16K() throws {
    let g = PageGeometry.arm64_16K
    var (image, alloc) = xarrayImage(g)
    var x = XArray<UInt64>()
    x[1] = 1
    let root = try KHOXArrayV1.encode(x, into: image, allocator: &alloc)
    // Root slot 1024 covers keys from 2^54.
    image.store(UInt64(0x10_4000), at: PhysAddr(root.rawValue + 1024 * 8))
    #expect(throws: DecodeError.self) { try KHOXArrayV1View(memory: image, root: root) }
  }

  @Test("golden vector decodes and re-encodes byte for byte")
  func golden() throws {
    let url = xarrayVectorURL("kho-xarray-v1", "sample-4k.bin")
    var (image, alloc) = xarrayImage()
    _ = try KHOXArrayV1.encode(Self.sample(), into: image, allocator: &alloc)
    let dump = pageDump(image, alloc)
    if ProcessInfo.processInfo.environment["KHO_WRITE_VECTORS"] != nil {
      try Data(dump).write(to: url)
    }
    let golden = try [UInt8](Data(contentsOf: url))
    let decoded = try KHOXArrayV1.decode(from: imageFromDump(golden), root: xarrayVectorBase)
    #expect(decoded == Self.sample())
    var (again, alloc2) = xarrayImage()
    _ = try KHOXArrayV1.encode(decoded, into: again, allocator: &alloc2)
    #expect(pageDump(again, alloc2) == golden)
  }

  @Test("memfd folio list (single pages) round trips through v1")
  func memfdUseCase() throws {
    var folios = XArray<UInt64>()
    for (i, f) in memfdFolios().allEntries.enumerated() where f.order == 0 { folios[f.index] = f.element + UInt64(i) }
    var (image, alloc) = xarrayImage()
    let root = try KHOXArrayV1.encode(folios, into: image, allocator: &alloc)
    #expect(try KHOXArrayV1.decode(from: image, root: root) == folios)
  }

  @Test("random arrays round trip and the view agrees")
  func property() async {
    await propertyCheck(count: 40, input: Gen.uint64().array(of: 0...300)) { raw in
      var x = XArray<UInt64>()
      for r in raw {
        let k = (r & 7 == 0) ? r >> 10 : (r >> 40) % 3000
        x[k] = r | 1
      }
      var (image, alloc) = xarrayImage()
      guard let root = try? KHOXArrayV1.encode(x, into: image, allocator: &alloc),
        let view = try? KHOXArrayV1View(memory: image, root: root)
      else {
        #expect(Bool(false))
        return
      }
      #expect(view.makeXArray() == x)
      for r in raw.prefix(50) {
        let k = (r >> 40) % 3100
        #expect(view.load(k) == x[k])
        #expect(view.firstIndex(from: k) == x.firstIndex(from: k))
        #expect(view.lastIndex(through: k) == x.lastIndex(through: k))
      }
    }
  }
}

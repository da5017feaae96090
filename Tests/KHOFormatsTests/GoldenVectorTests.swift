// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import Testing

@testable import KHOFormats

/// Golden vectors in Specs/vectors/: decoded, then re-encoded byte-for-byte.
///
/// Memory-image vectors are two files: `<name>.pages`, the captured pages
/// concatenated in ascending address order, and `<name>.json`, which lists
/// the page addresses, the root, the expected entries and the operations
/// that built it. Run with `KHO_WRITE_VECTORS=1` to regenerate them after a
/// deliberate format change.
@Suite("Golden vectors")
struct GoldenVectorTests {
  static let writing = ProcessInfo.processInfo.environment["KHO_WRITE_VECTORS"] == "1"

  struct ImageVector: Codable {
    var format: String
    var pageSize: Int
    var byteOrder: String
    var depthRule: String?
    var allocatorStart: String
    var root: String
    var pages: [String]
    /// The build steps: ["add", phys, order] or ["remove", phys, order].
    var ops: [[String]]
    /// The expected set, sorted by address then order: [phys, order].
    var entries: [[String]]
  }

  struct Case: Sendable {
    var dir: String
    var name: String
    var geometry: PageGeometry
    var format: MemoryMapFormat
    var ops: [(add: Bool, entry: PreservedEntry)]
  }

  static let cases: [Case] = {
    let three = [
      PreservedEntry(0x1_0000_0000, order: 0), PreservedEntry(0x1_0000_1000, order: 0),
      PreservedEntry(0x4000_0000, order: 9),
    ]
    func walk(_ es: [PreservedEntry]) -> [(Bool, PreservedEntry)] {
      es.sorted { ($0.order, $1.phys) > ($1.order, $0.phys) }.map { (true, $0) }
    }
    return [
      Case(dir: "radix-v1", name: "three-entries-4k", geometry: .x86_64, format: .radixV1, ops: walk(three)),
      Case(
        dir: "radix-v1", name: "one-entry-16k", geometry: .arm64_16K, format: .radixV1,
        ops: [(true, PreservedEntry(0x1_0000_0000, order: 0))]),
      Case(
        dir: "radix-v1", name: "empty-leaf-4k", geometry: .x86_64, format: .radixV1,
        ops: [
          (true, PreservedEntry(0x1_0000_0000, order: 0)), (true, PreservedEntry(0x2_0000_0000, order: 0)),
          (false, PreservedEntry(0x2_0000_0000, order: 0)),
        ]),
      Case(
        dir: "bitmap-chunks-v1", name: "three-entries-4k", geometry: .x86_64, format: .bitmapChunksV1, ops: walk(three)),
    ]
  }()

  func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
  func unhex(_ s: String) -> UInt64? { UInt64(s.dropFirst(2), radix: 16) }

  /// Builds the case the way its spec describes: radix vectors replay the
  /// ops through the kernel-style writer, chunk lists encode the final set.
  func build(_ c: Case) throws -> (PhysicalImage, PageAllocator, PhysAddr, PreservedSet) {
    let image = PhysicalImage(geometry: c.geometry)
    var alloc = PageAllocator(start: PhysAddr(0x1_1000_0000), pages: 1024, geometry: c.geometry)
    var set = PreservedSet(geometry: c.geometry)
    for (add, e) in c.ops {
      if add { try set.insert(e) } else { set.remove(e) }
    }
    switch c.format {
    case .radixV1:
      var w = try RadixTreeWriter(image: image, allocator: alloc)
      for (add, e) in c.ops {
        if add { try w.add(e) } else { _ = try w.remove(e.phys, order: e.order) }
      }
      return (image, w.allocator, w.root, set)
    case .bitmapChunksV1:
      let head = try BitmapChunkList.encode(set, into: image, allocator: &alloc)
      return (image, alloc, head, set)
    }
  }

  @Test(arguments: cases.indices)
  func memoryMapVector(index: Int) throws {
    let c = Self.cases[index]
    let base = vectorURL(c.dir).appendingPathComponent(c.name)
    let (built, alloc, root, set) = try build(c)
    let builtPages = pages(of: built)
    if Self.writing {
      let v = ImageVector(
        format: c.format.rawValue, pageSize: c.geometry.pageSize, byteOrder: c.geometry.byteOrder.rawValue,
        depthRule: c.format == .radixV1 ? RadixTree.DepthRule.plusOne.rawValue : nil,
        allocatorStart: hex(0x1_1000_0000), root: hex(root.rawValue),
        pages: builtPages.map { hex($0.0 << UInt64(c.geometry.pageShift)) },
        ops: c.ops.map { [$0.add ? "add" : "remove", hex($0.entry.phys.rawValue), "\($0.entry.order)"] },
        entries: set.map { [hex($0.phys.rawValue), "\($0.order)"] })
      let enc = JSONEncoder()
      enc.outputFormatting = [.prettyPrinted, .sortedKeys]
      try FileManager.default.createDirectory(
        at: base.deletingLastPathComponent(), withIntermediateDirectories: true)
      try enc.encode(v).write(to: base.appendingPathExtension("json"))
      try Data(builtPages.flatMap(\.1)).write(to: base.appendingPathExtension("pages"))
    }
    // Decode the stored bytes.
    let v = try JSONDecoder().decode(ImageVector.self, from: Data(contentsOf: base.appendingPathExtension("json")))
    let blob = [UInt8](try Data(contentsOf: base.appendingPathExtension("pages")))
    #expect(blob.count == v.pages.count * c.geometry.pageSize)
    let image = PhysicalImage(geometry: c.geometry)
    for (i, p) in v.pages.enumerated() {
      image.write(blob[i * c.geometry.pageSize..<(i + 1) * c.geometry.pageSize], at: PhysAddr(unhex(p) ?? 0))
    }
    let vroot = PhysAddr(unhex(v.root) ?? 0)
    let decoded = try PreservedMemoryMap.decode(c.format, from: image, at: vroot)
    #expect(decoded.map { [hex($0.phys.rawValue), "\($0.order)"] } == v.entries)
    #expect(decoded == set)
    // Re-encode: the same pages, byte for byte.
    #expect(vroot == root)
    #expect(v.pages == builtPages.map { hex($0.0 << UInt64(c.geometry.pageShift)) })
    #expect(blob == builtPages.flatMap(\.1))
    #expect(alloc.allocated.map { hex($0.rawValue) }.sorted() == v.pages.sorted())
    // Radix vectors without removals also come out of the bulk encoder.
    if c.format == .radixV1, c.ops.allSatisfy(\.add) {
      let bulk = PhysicalImage(geometry: c.geometry)
      var a = PageAllocator(start: 0x1_1000_0000, pages: 1024, geometry: c.geometry)
      let r = try RadixTree.encode(decoded, into: bulk, allocator: &a)
      #expect(r == vroot)
      #expect(pages(of: bulk).flatMap(\.1) == blob)
    }
  }

  // MARK: - Root FDTs, scratch, kexec-metadata

  static let roots: [(String, KHORoot)] = KHORootVersion.allCases.map { v in
    let sized = v.hasBlobSize
    // Registration order kexec-metadata, LUO: the FDT lists LUO first.
    return (
      v == .v4Composite ? "kho-v4-composite" : v.rawValue.replacingOccurrences(of: ";", with: "_"),
      KHORoot(
        version: v, memoryMap: v == .v1 ? 0x1_1000_2000 : 0x1_1000_0000,
        subBlobs: [
          KHOSubBlob(name: "LUO", address: 0x1_2000_0000, size: sized ? 32 : nil),
          KHOSubBlob(name: "kexec-metadata", address: 0x1_2000_1000, size: sized ? 73 : nil),
        ])
    )
  }

  @Test(arguments: roots.indices)
  func rootVector(index: Int) throws {
    let (name, root) = Self.roots[index]
    let url = vectorURL("kho-root").appendingPathComponent("\(name).dtb")
    let bytes = try root.encode(layout: .kernel(pageSize: 4096))
    if Self.writing { try Data(bytes).write(to: url) }
    let stored = [UInt8](try Data(contentsOf: url))
    let decoded = try KHORoot.decode(try FDT(parsing: stored))
    #expect(decoded == root)
    #expect(try decoded.encode(layout: .kernel(pageSize: 4096)) == stored)
  }

  @Test func scratchVector() throws {
    let areas = [
      KHOScratchArea(address: 0x100_0000, size: 0x400_0000),
      KHOScratchArea(address: 0x1_0000_0000, size: 0x2000_0000),
      KHOScratchArea(address: 0x2_0000_0000, size: 0x1000_0000),
    ]
    let url = vectorURL("kho-root").appendingPathComponent("scratch.bin")
    if Self.writing { try Data(KHOScratch.encode(areas)).write(to: url) }
    let stored = [UInt8](try Data(contentsOf: url))
    #expect(try KHOScratch.decode(Bytes(stored)) == areas)
    #expect(KHOScratch.encode(try KHOScratch.decode(Bytes(stored))) == stored)
  }

  @Test func kexecMetadataVector() throws {
    let m = KexecMetadata(previousRelease: "7.1.0-luo4-kho-oracle", kexecCount: 1)
    let url = vectorURL("kexec-metadata").appendingPathComponent("v1.bin")
    if Self.writing {
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(try m.encoded()).write(to: url)
    }
    let stored = [UInt8](try Data(contentsOf: url))
    #expect(stored.count == 73)
    let decoded = try KexecMetadata(decoding: Bytes(stored))
    #expect(decoded == m)
    #expect(try decoded.encoded() == stored)
  }
}

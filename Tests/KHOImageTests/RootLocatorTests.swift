// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import KHOFormats
import Testing

@testable import KHOImage

/// The root scan and the boot locators of a kernel booted by a handover.
@Suite("root locators")
struct RootLocatorTests {
  static func root(_ compatible: String = "kho-v4") throws -> [UInt8] {
    try FDTBuilder.build(
      DeviceTreeNode(
        "", properties: [.string("compatible", compatible), .u64("preserved-memory-map", 0x5000, .little)]))
  }

  /// Memory with two KHO roots, at 0x10000 and 0x20000.
  static func twoRoots() throws -> PhysicalImage {
    let m = PhysicalImage()
    m.write(try root(), at: PhysAddr(0x10000))
    m.write(try root(), at: PhysAddr(0x20000))
    m.write([UInt8](repeating: 0, count: 4096), at: PhysAddr(0x30000))
    return m
  }

  /// An x86 boot parameter page at `page` whose setup_data chain ends in
  /// a type-10 entry naming `target`; `loop` makes the last link point back.
  static func bootParams(_ m: PhysicalImage, page: UInt64, entry: UInt64, target: UInt64, loop: Bool = false) {
    var p = [UInt8](repeating: 0, count: 4096)
    p[0x1fe] = 0x55
    p[0x1ff] = 0xaa
    p.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
    // Two entries: an unrelated type 1 (SETUP_E820_EXT), then KHO.
    let first = entry
    let kho = entry + 0x40
    p.replaceSubrange(0x250..<0x258, with: le(first))
    m.write(p, at: PhysAddr(page))
    m.write(le(kho) + le32(1) + le32(8) + le(0), at: PhysAddr(first))
    m.write(
      le(loop ? first : 0) + le32(10) + le32(32) + le(target) + le(4096) + le(0x90000) + le(48),
      at: PhysAddr(kho))
  }

  static func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
  static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

  @Test("two roots and no locator: both found by scan, none chosen")
  func ambiguous() throws {
    let found = RootScanner.scan(try Self.twoRoots())
    #expect(found.map(\.address) == [PhysAddr(0x10000), PhysAddr(0x20000)])
    #expect(found.allSatisfy { $0.foundBy == [RootScanner.Locator(kind: .scan, at: nil)] })
    #expect(RootScanner.choose(found) == nil)
  }

  @Test("an x86 setup_data entry of type 10 names the live root")
  func setupData() throws {
    let m = try Self.twoRoots()
    Self.bootParams(m, page: 0x40000, entry: 0x41000, target: 0x20000)
    let found = RootScanner.scan(m)
    #expect(found.count == 2)
    let chosen = try #require(RootScanner.choose(found))
    #expect(chosen.address == PhysAddr(0x20000))
    #expect(chosen.foundBy.contains(RootScanner.Locator(kind: .setupData, at: PhysAddr(0x41040))))
    #expect(chosen.foundBy.first?.kind == .scan)
  }

  @Test("a setup_data chain that loops ends, and still names its root")
  func setupDataLoop() throws {
    let m = try Self.twoRoots()
    Self.bootParams(m, page: 0x40000, entry: 0x41000, target: 0x10000, loop: true)
    let chosen = try #require(RootScanner.choose(RootScanner.scan(m)))
    #expect(chosen.address == PhysAddr(0x10000))
  }

  @Test("/chosen/linux,kho-fdt of a boot DT names the live root")
  func chosen() throws {
    let m = try Self.twoRoots()
    let dt = try FDTBuilder.build(
      DeviceTreeNode(
        "",
        properties: [
          DeviceTreeProperty("#address-cells", [0, 0, 0, 2]), DeviceTreeProperty("#size-cells", [0, 0, 0, 2]),
        ],
        children: [
          DeviceTreeNode(
            "chosen",
            properties: [DeviceTreeProperty("linux,kho-fdt", [0, 0, 0, 0, 0, 1, 0, 0] + [0, 0, 0, 0, 0, 0, 0x10, 0])])
        ]))
    m.write(dt, at: PhysAddr(0x50000))
    let found = RootScanner.scan(m)
    let chosen = try #require(RootScanner.choose(found))
    #expect(chosen.address == PhysAddr(0x10000))
    #expect(chosen.foundBy == [.init(kind: .scan, at: nil), .init(kind: .chosen, at: PhysAddr(0x50000))])
    // The boot DT itself is not a candidate.
    #expect(!found.contains { $0.address == PhysAddr(0x50000) })
  }

  @Test("a locator naming memory without a root adds nothing")
  func danglingLocator() throws {
    let m = try Self.twoRoots()
    Self.bootParams(m, page: 0x40000, entry: 0x41000, target: 0x30000)
    let found = RootScanner.scan(m)
    #expect(found.count == 2)
    #expect(RootScanner.choose(found) == nil)
  }
}

/// A page start that falls within 0x210 bytes of the end of a scan piece
/// (a core whose segment file offsets are not page aligned, after a hole)
/// is still tested for an FDT and for boot parameters.
@Suite("root scan at piece edges")
struct RootScanEdgeTests {
  @Test("boot parameters in the last page of a piece that starts mid-page are found")
  func edge() throws {
    let path = NSTemporaryDirectory() + "kho-edge-\(UUID().uuidString).elf"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let segOffset: UInt64 = 0x1f00
    let size: UInt64 = 32 << 20
    let f = try SparseCore.create(path, size: size, segmentOffset: segOffset)
    // A hole up to file offset 0x101000, then 9 MiB of data: the first
    // piece starts at phys 0xff100, mid-page, and ends 0x100 bytes into
    // the page at 0x8ff000.
    let dataStart: UInt64 = 0x101000
    try f.seek(toOffset: dataStart)
    try f.write(contentsOf: Data(repeating: 0x11, count: 9 << 20))
    func write(_ bytes: [UInt8], phys: UInt64) throws {
      try f.seek(toOffset: segOffset + phys)
      try f.write(contentsOf: Data(bytes))
    }
    let m = PhysicalImage()
    RootLocatorTests.bootParams(m, page: 0x8ff000, entry: 0x300000, target: 0x500000)
    for p: UInt64 in [0x8ff000, 0x300000] { try write(try m.bytes(at: PhysAddr(p), count: 4096).array, phys: p) }
    try write(try RootLocatorTests.root(), phys: 0x400000)
    try write(try RootLocatorTests.root(), phys: 0x500000)
    try f.close()
    let core = try ELFCore(path: path)
    let found = RootScanner.scan(core)
    #expect(found.map(\.address) == [PhysAddr(0x400000), PhysAddr(0x500000)])
    let chosen = try #require(RootScanner.choose(found))
    #expect(chosen.address == PhysAddr(0x500000))
    #expect(chosen.foundBy.contains(RootScanner.Locator(kind: .setupData, at: PhysAddr(0x300040))))
  }
}

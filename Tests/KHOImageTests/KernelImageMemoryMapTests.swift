// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import KHOImage
import Testing

@testable import KHOFormats

/// The root and memory-map decoders against handovers written by the
/// kernel's own code: the preserved set, the tree's shape and the zero-copy
/// query, checked against each image's expected.json.
@Suite("kernel images: KHO root and preserved-memory map")
struct KernelImageMemoryMapTests {
  static let directory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/kernel-images")

  struct Fixture {
    let memory: ELFCore
    let root: KHORoot
    let expected: [String: Any]
  }

  static func u64(_ any: Any?) -> UInt64? { (any as? NSNumber)?.uint64Value }

  static func load(_ name: String) throws -> Fixture {
    let json = try Data(contentsOf: directory.appendingPathComponent("\(name).expected.json"))
    let expected = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    let elf = directory.appendingPathComponent("\(name).elf")
    let memory: ELFCore
    if FileManager.default.fileExists(atPath: elf.path) {
      memory = try ELFCore(path: elf.path)
    } else {
      memory = try ELFCore(bytes: try InputFile.load(elf.path + ".zst"))
    }
    let rootPhys = PhysAddr(try #require(u64(expected["root_fdt_phys"])))
    let size = try #require(expected["root_fdt_totalsize"] as? Int)
    let fdt = try FDT(parsing: try memory.bytes(at: rootPhys, count: size))
    return Fixture(memory: memory, root: try KHORoot.decode(fdt), expected: expected)
  }

  static let cases = ["kho-v2-radix", "kho-v4-luo-v4"]

  @Test(arguments: cases)
  func preservedSetMatches(name: String) throws {
    let f = try Self.load(name)
    #expect(f.root.version.rawValue == f.expected["kho_compatible"] as? String)
    #expect(f.root.memoryMap.rawValue == Self.u64(f.expected["preserved_memory_map_phys"]))
    let r = RadixTree.decodeReporting(from: f.memory, root: f.root.memoryMap)
    #expect(r.isClean)
    let set = try #require(r.value?.set)
    let preserved = try #require(f.expected["preserved"] as? [String: Any])
    let pairs = try #require(preserved["pairs"] as? [[NSNumber]])
    #expect(set.count == preserved["count"] as? Int)
    // The sha256 input, line for line: '0x%x %d\n' sorted by (phys, order).
    let lines = set.map { "0x\(String($0.phys.rawValue, radix: 16)) \($0.order)" }
    let want = pairs.map { "0x\(String($0[0].uint64Value, radix: 16)) \($0[1].intValue)" }
    #expect(lines == want)
    let byOrder = try #require(preserved["count_by_order"] as? [String: Int])
    #expect(Dictionary(uniqueKeysWithValues: set.orders.map { ("\($0)", set.count(order: $0)) }) == byOrder)
  }

  @Test(arguments: cases)
  func treeShapeMatches(name: String) throws {
    let f = try Self.load(name)
    let map = try #require(f.expected["memory_map"] as? [String: Any])
    let r = RadixTree.decodeReporting(from: f.memory, root: f.root.memoryMap)
    #expect(r.value?.radixStats?.depth == map["depth"] as? Int)
    #expect(r.value?.radixStats?.tableNodes == map["table_nodes"] as? Int)
    #expect(r.value?.radixStats?.leaves == map["leaves"] as? Int)
    #expect(r.value?.radixStats?.emptyLeaves == map["empty_leaves"] as? Int)
    let levels = try #require(map["table_nodes_by_level"] as? [String: Int])
    for (level, n) in levels {
      #expect(r.value?.radixStats?.tableNodesByLevel[Int(level) ?? 0] == n, "level \(level)")
    }
  }

  @Test(arguments: cases)
  func zeroCopyQueriesAgree(name: String) throws {
    let f = try Self.load(name)
    let set = try RadixTree.decode(from: f.memory, root: f.root.memoryMap)
    let view = try RadixTreeView(memory: f.memory, root: f.root.memoryMap)
    for e in set.prefix(200) {
      #expect(try view.contains(e))
      let last = PhysAddr(e.phys.rawValue + (e.pageCount - 1) * 4096)
      #expect(try view.covering(last) == set.covering(pfn: last.pfn(.x86_64)))
    }
    // A page just past the first entry is not preserved unless the set says so.
    if let first = set.first {
      let next = PhysAddr(first.phys.rawValue + first.pageCount * 4096)
      #expect(try view.isPreserved(next) == set.contains(pfn: next.pfn(.x86_64)))
    }
  }

  @Test(arguments: cases)
  func convertsToKhoV1AndBack(name: String) throws {
    let f = try Self.load(name)
    let set = try RadixTree.decode(from: f.memory, root: f.root.memoryMap)
    let image = PhysicalImage()
    var alloc = PageAllocator(start: 0x20_0000_0000, pages: 1 << 16)
    let head = try BitmapChunkList.encode(set, into: image, allocator: &alloc)
    let back = try BitmapChunkList.decode(from: image, head: head)
    #expect(back == set)
    let root = try RadixTree.encode(back, into: image, allocator: &alloc)
    #expect(try RadixTree.decode(from: image, root: root) == set)
  }

  @Test(arguments: cases)
  func rootReencodesToTheKernelBytes(name: String) throws {
    let f = try Self.load(name)
    let rootPhys = PhysAddr(try #require(Self.u64(f.expected["root_fdt_phys"])))
    let size = try #require(f.expected["root_fdt_totalsize"] as? Int)
    let inMemory = try f.memory.bytes(at: rootPhys, count: size).array
    #expect(try f.root.encode(layout: .kernel(pageSize: 4096)) == inMemory)
  }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import Testing

@testable import KHOFormats

/// Malformed DTBs give typed errors, never a trap.
@Suite("FDT malformed input")
struct FDTMalformedTests {
  /// A small valid blob: root with two properties and one child with one.
  static let valid: [UInt8] = {
    let root = DeviceTreeNode(
      "",
      properties: [.string("compatible", "kho-v4"), .u64("preserved-memory-map", 0x1000, .little)],
      children: [DeviceTreeNode("LUO", properties: [.u64("preserved-data", 0x2000, .little)])])
    return (try? FDTBuilder.build(root)) ?? []
  }()

  static func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

  static func patched(_ offset: Int, _ value: UInt32, _ blob: [UInt8] = valid) -> [UInt8] {
    var b = blob
    b.replaceSubrange(offset..<offset + 4, with: be32(value))
    return b
  }

  static func kind(_ blob: [UInt8], trailing: Bool = false) -> DecodeError.Kind? {
    do {
      _ = try FDT(parsing: blob, allowTrailingBytes: trailing)
      return nil
    } catch { return error.kind }
  }

  var header: FDTHeader { get throws { try FDTHeader(reading: Bytes(Self.valid)) } }

  @Test("the fixture itself is valid")
  func fixture() throws {
    let fdt = try FDT(parsing: Self.valid)
    #expect(fdt.nodeCount == 2)
    #expect(fdt.propertyCount == 3)
    #expect(fdt.node(at: "/LUO")?.property("preserved-data")?.u64(.little) == 0x2000)
  }

  @Test("truncation at every length is a typed error")
  func truncated() {
    for n in 0..<Self.valid.count {
      let k = Self.kind(Array(Self.valid.prefix(n)))
      #expect(k == .truncated || k == .badMagic, "length \(n) gave \(String(describing: k))")
    }
  }

  @Test("totalsize larger or smaller than the buffer")
  func totalSize() {
    let n = UInt32(Self.valid.count)
    #expect(Self.kind(Self.patched(4, n + 8)) == .truncated)
    #expect(Self.kind(Self.valid + [0, 0, 0, 0]) == .inconsistent)
    #expect(Self.kind(Self.valid + [0, 0, 0, 0], trailing: true) == nil)
    #expect(Self.kind(Self.patched(4, 20)) == .outOfRange)
  }

  @Test("block offsets and sizes out of range")
  func offsets() throws {
    let h = try header
    #expect(Self.kind(Self.patched(8, 0x7fff_0000)) == .outOfRange)  // off_dt_struct
    #expect(Self.kind(Self.patched(8, h.structOffset + 2)) == .misaligned)
    #expect(Self.kind(Self.patched(12, 0x7fff_0000)) == .outOfRange)  // off_dt_strings
    #expect(Self.kind(Self.patched(16, 0x7fff_0000)) == .outOfRange)  // off_mem_rsvmap
    #expect(Self.kind(Self.patched(32, 0xffff)) == .outOfRange)  // size_dt_strings
    #expect(Self.kind(Self.patched(36, 0xffff)) == .outOfRange)  // size_dt_struct
    #expect(Self.kind(Self.patched(20, 1)) == .unknownVersion)
    #expect(Self.kind(Self.patched(0, 0xd00d_fee0)) == .badMagic)
  }

  @Test("a name offset past the strings block, unterminated names and strings")
  func strings() throws {
    let h = try header
    // First property of the root: token at struct+8 (after BEGIN_NODE + empty name).
    let prop = Int(h.structOffset) + 8
    #expect(Self.kind(Self.patched(prop + 8, 0xffff)) == .outOfRange)
    // Strings block without its final NUL.
    var b = Self.valid
    let lastString = Int(h.stringsOffset + h.stringsSize) - 1
    b[lastString] = 0x41
    #expect(Self.kind(b) == .badString)
    // A node name that runs to the end of the structure block.
    let luoName = Self.valid.indices.first { i in
      Self.valid[i..<min(i + 3, Self.valid.count)].elementsEqual(Array("LUO".utf8))
    }
    var c = Self.valid
    if let i = luoName {
      for j in i..<Int(h.structOffset + h.structSize) { c[j] = 0x41 }
    }
    #expect(Self.kind(c) == .badString || Self.kind(c) == .truncated)
  }

  @Test("tokens after FDT_END, unknown tokens, unbalanced nodes")
  func tokens() throws {
    let h = try header
    let end = Int(h.structOffset + h.structSize)
    // FDT_END followed by a NOP inside the block: grow the block by 4.
    var b = Self.valid
    b.insert(contentsOf: Self.be32(4), at: end)
    b = Self.patched(36, h.structSize + 4, b)
    b = Self.patched(12, h.stringsOffset + 4, b)
    b = Self.patched(4, UInt32(b.count), b)
    #expect(Self.kind(b) == .inconsistent)
    // An unknown token where the first property was.
    #expect(Self.kind(Self.patched(Int(h.structOffset) + 8, 7)) == .outOfRange)
    // END_NODE of the root replaced by NOP: FDT_END with a node open.
    #expect(Self.kind(Self.patched(end - 8, 4)) == .inconsistent)
  }

  @Test("absurd nesting is refused at the documented depth")
  func nesting() throws {
    var node = DeviceTreeNode("leaf")
    for i in 0..<(FDT.maxDepth + 2) { node = DeviceTreeNode("n\(i)", children: [node]) }
    node.name = ""
    let blob = try FDTBuilder.build(node)
    #expect(Self.kind(blob) == .limitExceeded)
    var ok = DeviceTreeNode("leaf")
    for i in 0..<(FDT.maxDepth - 2) { ok = DeviceTreeNode("n\(i)", children: [ok]) }
    ok.name = ""
    #expect(Self.kind(try FDTBuilder.build(ok)) == nil)
  }

  @Test("every single-byte corruption is either accepted or a typed error")
  func byteFlips() {
    var accepted = 0
    for i in 0..<Self.valid.count {
      for v: UInt8 in [0x00, 0x01, 0x03, 0x09, 0x7f, 0xff] where Self.valid[i] != v {
        var b = Self.valid
        b[i] = v
        if (try? FDT(parsing: b)) != nil { accepted += 1 }
      }
    }
    // Value bytes may change freely; structural bytes may not.
    #expect(accepted > 0)
  }
}

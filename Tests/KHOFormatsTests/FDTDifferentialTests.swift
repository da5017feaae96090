// SPDX-License-Identifier: Apache-2.0
import CFDT
import Foundation
import KHOCore
import Testing

@testable import KHOFormats

/// Random device trees, written as DTS and compiled by dtc, must read the
/// same through our reader as through libfdt; our builder's output must be
/// accepted by dtc and fdtdump.
@Suite("FDT against dtc and libfdt")
struct FDTDifferentialTests {
  /// A random tree with unique sibling names and every value kind dtc knows.
  static func randomTree(_ rng: inout SeededRandom, depth: Int = 0) -> DeviceTreeNode {
    let letters = Array("abcdefghijklmnopqrstuvwxyz")
    func name(_ extra: String) -> String {
      let n = Int.random(in: 1...10, using: &rng)
      let tail = String((0..<n).map { _ in (letters + Array("0123456789" + extra)).randomElement(using: &rng) ?? "a" })
      return String(letters.randomElement(using: &rng) ?? "a") + tail
    }
    var props: [DeviceTreeProperty] = []
    var used = Set<String>()
    for _ in 0..<Int.random(in: 0...6, using: &rng) {
      let n = name(",._-")
      guard used.insert(n).inserted else { continue }
      switch Int.random(in: 0..<5, using: &rng) {
      case 0: props.append(.string(n, name(" ")))
      case 1: props.append(.empty(n))
      case 2:
        let cells = (0..<Int.random(in: 1...5, using: &rng)).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) }
        props.append(DeviceTreeProperty(n, cells.flatMap { c in withUnsafeBytes(of: c.bigEndian) { Array($0) } }))
      case 3:
        props.append(
          DeviceTreeProperty(
            n, (0..<Int.random(in: 1...13, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }))
      default: props.append(.u64(n, UInt64.random(in: 0...UInt64.max, using: &rng), .little))
      }
    }
    var kids: [DeviceTreeNode] = []
    var kidNames = Set<String>()
    if depth < 4 {
      for _ in 0..<Int.random(in: 0...(depth == 0 ? 5 : 3), using: &rng) {
        var k = randomTree(&rng, depth: depth + 1)
        k.name = name("_-") + (Bool.random(using: &rng) ? "@\(Int.random(in: 0...0xfff, using: &rng))" : "")
        if kidNames.insert(k.name).inserted { kids.append(k) }
      }
    }
    return DeviceTreeNode(depth == 0 ? "" : "n", properties: props, children: kids)
  }

  /// DTS source for a tree (values as byte strings, so dtc stores them verbatim).
  static func dts(_ n: DeviceTreeNode, depth: Int = 0) -> String {
    let pad = String(repeating: "\t", count: depth)
    var s = pad + (depth == 0 ? "/" : n.name) + " {\n"
    for p in n.properties {
      s += pad + "\t" + p.name
      if !p.value.isEmpty {
        s += " = [" + p.value.map { String(format: "%02x", $0) }.joined(separator: " ") + "]"
      }
      s += ";\n"
    }
    for c in n.children { s += dts(c, depth: depth + 1) }
    return s + pad + "};\n"
  }

  /// What libfdt sees: every node's path with its (name, value) properties, in order.
  static func libfdtView(_ blob: [UInt8]) -> [(String, [(String, [UInt8])])] {
    var out: [(String, [(String, [UInt8])])] = []
    blob.withUnsafeBytes { raw in
      guard let fdt = raw.baseAddress, fdt_check_full(fdt, raw.count) == 0 else { return }
      var depth: Int32 = 0
      var node: Int32 = 0
      var pathBuf = [CChar](repeating: 0, count: 4096)
      while node >= 0 && depth >= 0 {
        _ = fdt_get_path(fdt, node, &pathBuf, Int32(pathBuf.count))
        let path = String(decoding: pathBuf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var props: [(String, [UInt8])] = []
        var prop = fdt_first_property_offset(fdt, node)
        while prop >= 0 {
          var len: Int32 = 0
          var name: UnsafePointer<CChar>?
          if let v = fdt_getprop_by_offset(fdt, prop, &name, &len), let name {
            props.append((String(cString: name), Array(UnsafeRawBufferPointer(start: v, count: Int(len)))))
          } else if let name {
            props.append((String(cString: name), []))
          }
          prop = fdt_next_property_offset(fdt, prop)
        }
        out.append((path, props))
        node = fdt_next_node(fdt, node, &depth)
      }
    }
    return out
  }

  @Test("random trees compiled by dtc read the same as libfdt reads them", arguments: 0..<12)
  func readerMatchesLibfdt(seed: UInt64) throws {
    var rng = SeededRandom(seed: seed)
    let tree = Self.randomTree(&rng)
    let src = ExternalTool.temporaryPath(".dts")
    let dtb = ExternalTool.temporaryPath(".dtb")
    defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dtb) }
    try ("/dts-v1/;\n" + Self.dts(tree)).write(toFile: src, atomically: true, encoding: .utf8)
    let compiled = try ExternalTool.run("dtc", ["-q", "-I", "dts", "-O", "dtb", "-o", dtb, src])
    try #require(compiled.status == 0, "dtc failed: \(compiled.stderr)")
    let blob = Array(try Data(contentsOf: URL(fileURLWithPath: dtb)))
    let fdt = try FDT(parsing: blob)
    // Ours against the generated model.
    #expect(fdt.tree() == tree)
    // Ours against libfdt, node by node, property by property.
    let theirs = Self.libfdtView(blob)
    let ours = fdt.nodes.map { n in (n.path, n.properties.map { ($0.name, $0.value.array) }) }
    #expect(ours.count == theirs.count)
    for (o, t) in zip(ours, theirs) {
      #expect(o.0 == t.0)
      #expect(o.1.map(\.0) == t.1.map(\.0))
      #expect(o.1.map(\.1) == t.1.map(\.1))
    }
    // Ours against fdtget for one property of the deepest node that has one.
    if let n = fdt.nodes.last(where: { $0.propertyCount > 0 }), let p = n.properties.first {
      let got = try ExternalTool.run("fdtget", ["-t", "bx", dtb, n.path, p.name])
      let bytes = got.text.split(whereSeparator: \.isWhitespace).compactMap { UInt8($0, radix: 16) }
      #expect(got.status == 0)
      #expect(bytes == p.value.array)
    }
  }

  @Test("our builder's blobs are accepted by dtc and fdtdump, and dtc prints what we print", arguments: 100..<110)
  func builderAcceptedByDtc(seed: UInt64) throws {
    var rng = SeededRandom(seed: seed)
    let tree = Self.randomTree(&rng)
    let blob = try FDTBuilder.build(tree, reservations: [FDTReservation(address: 0x1000_0000, size: 0x4000)])
    let dtb = ExternalTool.temporaryPath(".dtb")
    defer { try? FileManager.default.removeItem(atPath: dtb) }
    try Data(blob).write(to: URL(fileURLWithPath: dtb))
    let dtc = try ExternalTool.run("dtc", ["-q", "-I", "dtb", "-O", "dts", dtb])
    #expect(dtc.status == 0, "dtc refused our blob: \(dtc.stderr)")
    let fdt = try FDT(parsing: blob)
    #expect(fdt.tree() == tree)
    #expect(fdt.reservations == [FDTReservation(address: 0x1000_0000, size: 0x4000)])
    let rendered = DTSRenderer(options: .init(annotateKHO: nil)).render(fdt)
    #expect(rendered == dtc.text)
    let dump = try ExternalTool.run("fdtdump", [dtb])
    #expect(dump.status == 0)
    for p in tree.properties { #expect(dump.text.contains(p.name)) }
    blob.withUnsafeBytes { raw in
      #expect(fdt_check_full(raw.baseAddress, raw.count) == 0)
    }
  }

  @Test("the kernel's root FDTs parse and match libfdt")
  func kernelRoots() throws {
    for name in ["kho-v2-radix.dtb", "kho-v4-luo-v4.dtb"] {
      let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name)
      let blob = Array(try Data(contentsOf: url))
      let fdt = try FDT(parsing: blob)
      let theirs = Self.libfdtView(blob)
      #expect(fdt.nodes.map(\.path) == theirs.map(\.0))
      #expect(fdt.root.property("compatible")?.string?.hasPrefix("kho-v") == true)
    }
  }
}

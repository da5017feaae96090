// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import Testing

@testable import KHOFormats

@Suite("KHO root")
struct KHORootTests {
  func fixture(_ name: String) throws -> [UInt8] {
    Array(try Data(contentsOf: fixtureURL(name)))
  }

  func expected(_ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: fixtureURL(name))
    return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
  }

  @Test(arguments: ["kho-v2-radix", "kho-v4-luo-v4"])
  func kernelFixturesDecode(name: String) throws {
    let dtb = try fixture("\(name).dtb")
    let json = try expected("\(name).expected.json")
    let root = try KHORoot.decode(try FDT(parsing: dtb))
    #expect(root.version.rawValue == json["kho_compatible"] as? String)
    #expect(root.memoryMap.rawValue == (json["preserved_memory_map_phys"] as? NSNumber)?.uint64Value)
    let subs = (json["subnodes"] as? [[String: Any]]) ?? []
    #expect(root.subBlobs.map(\.name) == subs.compactMap { $0["name"] as? String })
    #expect(root.subBlobs.map(\.address.rawValue) == subs.compactMap { ($0["phys"] as? NSNumber)?.uint64Value })
    #expect(root.subBlobs.map(\.size) == subs.map { ($0["blob_size"] as? NSNumber)?.uint64Value })
    #expect(root.version.memoryMapFormat == .radixV1)
  }

  @Test(arguments: ["kho-v2-radix", "kho-v4-luo-v4"])
  func kernelLayoutReproducesTheKernelBytes(name: String) throws {
    let dtb = try fixture("\(name).dtb")
    let root = try KHORoot.decode(try FDT(parsing: dtb))
    #expect(try root.encode(layout: .kernel(pageSize: 4096)) == dtb)
    // The sequential layout is the same tree in other bytes.
    let seq = try root.encode(layout: .sequential)
    #expect(try FDT(parsing: seq).tree() == FDT(parsing: dtb).tree())
  }

  @Test(arguments: KHORootVersion.allCases)
  func everyVersionRoundTrips(version: KHORootVersion) throws {
    let sized = version.hasBlobSize
    let root = KHORoot(
      version: version, memoryMap: 0x1_0000_0000,
      subBlobs: [
        KHOSubBlob(name: "LUO", address: 0x1_0020_0000, size: sized ? 32 : nil),
        KHOSubBlob(name: "memblock", address: 0x1_0030_0000, size: sized ? 210 : nil),
      ])
    for layout in [KHORoot.Layout.kernel(pageSize: 4096), .sequential] {
      let dtb = try root.encode(layout: layout)
      let fdt = try FDT(parsing: dtb)
      #expect(try KHORoot.decode(fdt) == root)
      #expect(fdt.root.properties.map(\.name) == ["compatible", "preserved-memory-map"])
      #expect(fdt.root.children.map(\.name) == ["LUO", "memblock"])
      let props = fdt.root.children.first?.properties.map(\.name)
      #expect(props == (version == .v1 ? ["fdt"] : sized ? ["blob-size", "preserved-data"] : ["preserved-data"]))
    }
  }

  @Test func compositeStringIsParsed() throws {
    let v = try KHORootVersion(compatible: "kho-v4;radix-v1;vmalloc-v1")
    #expect(v == .v4Composite)
    #expect(v.parsed.base == "kho-v4")
    #expect(v.parsed.components == ["radix-v1", "vmalloc-v1"])
    #expect(v.parsed.isCanonical)
    #expect(v.hasBlobSize)
    #expect(KHOCompatible(parsing: "a;;b").string == "a;;b")
  }

  @Test func unknownCompatibleNamesWhatItSawAndKnows() {
    for (seen, hint) in [
      ("kho-v5", ""), ("kho-v4;radix-v2", "not with components 'radix-v2'"),
      ("kho-v4;vmalloc-v1;radix-v1", "alphabetical"), ("", ""),
    ] {
      do {
        _ = try KHORootVersion(compatible: seen)
        Issue.record("accepted '\(seen)'")
      } catch {
        #expect(error.kind == .unknownVersion)
        #expect(error.message.contains("'\(seen)'"))
        #expect(error.message.contains("'kho-v1'") && error.message.contains("'kho-v4;radix-v1;vmalloc-v1'"))
        #expect(hint.isEmpty || error.message.contains(hint))
      }
    }
  }

  func decodeError(_ tree: DeviceTreeNode) -> DecodeError? {
    do {
      _ = try KHORoot.decode(try FDT(parsing: try FDTBuilder.build(tree)))
      return nil
    } catch let e as DecodeError {
      return e
    } catch {
      return nil
    }
  }

  func tree(_ compat: String, map: [UInt8]? = Array(repeating: 1, count: 8), children: [DeviceTreeNode] = [])
    -> DeviceTreeNode
  {
    var props: [DeviceTreeProperty] = [.string("compatible", compat)]
    if let map { props.append(DeviceTreeProperty("preserved-memory-map", map)) }
    return DeviceTreeNode("", properties: props, children: children)
  }

  @Test func malformedRoots() {
    let ptr = DeviceTreeProperty.u64("preserved-data", 0x1000, .little)
    let size = DeviceTreeProperty.u64("blob-size", 16, .little)
    #expect(decodeError(DeviceTreeNode("", properties: [])).map(\.kind) == .missing)
    #expect(decodeError(tree("kho-v9")).map(\.kind) == .unknownVersion)
    #expect(decodeError(tree("kho-v2", map: nil)).map(\.kind) == .missing)
    #expect(decodeError(tree("kho-v2", map: [1, 2, 3, 4])).map(\.kind) == .badCount)
    #expect(decodeError(tree("kho-v2", map: Array(repeating: 0, count: 8))).map(\.kind) == .missing)
    #expect(decodeError(tree("kho-v1", map: Array(repeating: 0, count: 8))) == nil)  // v1: not yet serialized
    let noSize = decodeError(tree("kho-v3", children: [DeviceTreeNode("LUO", properties: [ptr])]))
    #expect(noSize?.kind == .missing)
    #expect(noSize?.path.rawValue == "/LUO")
    #expect(decodeError(tree("kho-v3", children: [DeviceTreeNode("LUO", properties: [ptr, size])])) == nil)
    let wrongProp = decodeError(tree("kho-v1", children: [DeviceTreeNode("LUO", properties: [ptr])]))
    #expect(wrongProp?.kind == .missing)
    #expect(wrongProp?.message.contains("kho-v2 and later") == true)
    let zero = DeviceTreeProperty.u64("preserved-data", 0, .little)
    #expect(decodeError(tree("kho-v2", children: [DeviceTreeNode("x", properties: [zero])]))?.kind == .missing)
    let short = DeviceTreeProperty("preserved-data", [1, 2, 3])
    #expect(decodeError(tree("kho-v2", children: [DeviceTreeNode("x", properties: [short])]))?.kind == .badCount)
    let twice = tree(
      "kho-v2", children: [DeviceTreeNode("x", properties: [ptr]), DeviceTreeNode("x", properties: [ptr])])
    #expect(decodeError(twice)?.kind == .duplicate)
    // Reporting mode keeps the good sub-nodes.
    let mixed = tree(
      "kho-v2", children: [DeviceTreeNode("bad", properties: [short]), DeviceTreeNode("good", properties: [ptr])])
    if let fdt = try? FDT(parsing: (try? FDTBuilder.build(mixed)) ?? []) {
      let outcome = KHORoot.decodeReporting(fdt)
      let (root, problems) = (outcome.value, outcome.problems)
      #expect(root?.subBlobs.map(\.name) == ["good"])
      #expect(problems.map(\.kind) == [.badCount])
    } else {
      Issue.record("could not build the mixed tree")
    }
  }

  @Test func encoderRefusesWhatAVersionCannotSay() {
    let sized = KHOSubBlob(name: "LUO", address: 0x1000, size: 32)
    let unsized = KHOSubBlob(name: "LUO", address: 0x1000)
    #expect(throws: EncodeError.self) { try KHORoot(version: .v2, memoryMap: 0x1000, subBlobs: [sized]).encode() }
    #expect(throws: EncodeError.self) { try KHORoot(version: .v3, memoryMap: 0x1000, subBlobs: [unsized]).encode() }
    #expect(throws: EncodeError.self) { try KHORoot(version: .v4, memoryMap: 0, subBlobs: []).encode() }
    #expect(throws: EncodeError.self) {
      try KHORoot(version: .v2, memoryMap: 0x1000, subBlobs: [unsized, unsized]).encode()
    }
    #expect(throws: EncodeError.self) {
      try KHORoot(version: .v2, memoryMap: 0x1000, subBlobs: [KHOSubBlob(name: "a/b", address: 1)]).encode()
    }
    let many = (0..<300).map { KHOSubBlob(name: "blob-number-\($0)", address: 0x1000, size: 8) }
    #expect(throws: EncodeError.self) { try KHORoot(version: .v4, memoryMap: 0x1000, subBlobs: many).encode() }
    #expect((try? KHORoot(version: .v1, memoryMap: 0, subBlobs: []).encode()) != nil)
  }

  @Test func subBlobSizeFromTheFDTHeader() throws {
    let image = PhysicalImage()
    let sub = try FDTBuilder.build(DeviceTreeNode("", properties: [.string("compatible", "memblock-v1")]))
    image.write(sub, at: 0x5000)
    #expect(try KHOSubBlob(name: "memblock", address: 0x5000).resolvedSize(in: image) == UInt64(sub.count))
    #expect(try KHOSubBlob(name: "LUO", address: 0x5000, size: 32).resolvedSize(in: image) == 32)
    image.write([0, 0, 0, 0], at: 0x5000)
    #expect(throws: DecodeError.self) { try KHOSubBlob(name: "x", address: 0x5000).resolvedSize(in: image) }
  }

  // MARK: - Scratch and kexec-metadata

  @Test func scratchArray() throws {
    let areas = [
      KHOScratchArea(address: 0x100_0000, size: 0x400_0000),
      KHOScratchArea(address: 0x1_0000_0000, size: 0x2000_0000),
    ]
    let bytes = KHOScratch.encode(areas)
    #expect(bytes.count == 32)
    #expect(Array(bytes.prefix(8)) == [0, 0, 0, 1, 0, 0, 0, 0])
    #expect(try KHOScratch.decode(Bytes(bytes)) == areas)
    #expect(try KHOScratch.decode(Bytes(KHOScratch.encode(areas, byteOrder: .big)), byteOrder: .big) == areas)
    #expect(throws: DecodeError.self) { try KHOScratch.decode(Bytes(bytes.dropLast())) }
    let wrap = KHOScratch.encode([KHOScratchArea(address: PhysAddr(UInt64.max - 10), size: 100)])
    #expect(throws: DecodeError.self) { try KHOScratch.decode(Bytes(wrap)) }
    #expect(try KHOScratch.decode(Bytes([])) == [])
  }

  @Test func kexecMetadata() throws {
    let m = KexecMetadata(previousRelease: "7.1.0-luo4-kho-oracle", kexecCount: 1)
    let bytes = try m.encoded()
    #expect(bytes.count == 73)
    #expect(Array(bytes.prefix(5)) == [1, 0, 0, 0, 0x37])
    #expect(Array(bytes.suffix(4)) == [1, 0, 0, 0])
    #expect(try KexecMetadata(decoding: Bytes(bytes)) == m)
    #expect(try KexecMetadata(decoding: Bytes(bytes + [9, 9])) == m)  // may grow
    func kind(_ b: [UInt8]) -> DecodeError.Kind? {
      do { _ = try KexecMetadata(decoding: Bytes(b)) } catch { return error.kind }
      return nil
    }
    #expect(kind([1, 0]) == .truncated)
    #expect(kind(Array(bytes.prefix(72))) == .truncated)
    #expect(kind([2, 0, 0, 0] + bytes.dropFirst(4)) == .unknownVersion)
    var noNul = bytes
    for i in 4..<69 { noNul[i] = 0x41 }
    #expect(kind(noNul) == .badString)
    #expect(throws: EncodeError.self) {
      try KexecMetadata(previousRelease: String(repeating: "x", count: 65), kexecCount: 1).encoded()
    }
    #expect(throws: EncodeError.self) { try KexecMetadata(previousRelease: "a\u{0}b", kexecCount: 1).encoded() }
  }
}

/// Hostile input (issue 20, class 8): FDT structure dtc rejects is an error, not silently read.
@Suite("KHO root: what dtc rejects")
struct KHORootDTCChecks {
  func root(_ props: [DeviceTreeProperty], children: [DeviceTreeNode] = []) throws -> FDT {
    try FDT(parsing: try FDTBuilder.build(DeviceTreeNode("", properties: props, children: children)))
  }

  @Test("a duplicate preserved-memory-map in the root is an error")
  func duplicateProperty() throws {
    let fdt = try root([
      .string("compatible", "kho-v4"), .u64("preserved-memory-map", 0x1000, .little),
      .u64("preserved-memory-map", 0x2000, .little),
    ])
    let problems = KHORoot.decodeReporting(fdt).problems
    #expect(problems.map(\.kind) == [.duplicate])
    #expect(problems.first?.message.contains("preserved-memory-map") == true)
    #expect(throws: DecodeError.self) { try KHORoot.decode(fdt) }
  }

  @Test(
    "sub-node names with control characters or outside dtc's set are errors",
    arguments: ["EVIL\u{1b}[0m", "a b", "LUO\n", "é"])
  func badNodeName(name: String) throws {
    let child = DeviceTreeNode(
      name, properties: [.u64("preserved-data", 0x1000, .little), .u64("blob-size", 8, .little)])
    let fdt = try root(
      [.string("compatible", "kho-v4"), .u64("preserved-memory-map", 0x1000, .little)], children: [child])
    let outcome = KHORoot.decodeReporting(fdt)
    let (r, problems) = (outcome.value, outcome.problems)
    #expect(problems.map(\.kind) == [.badString])
    #expect(r?.subBlobs.isEmpty == true)
    #expect(!problems[0].path.description.unicodeScalars.contains { $0.value < 0x20 })
  }

  @Test("names dtc accepts pass", arguments: ["LUO", "kexec-metadata", "mshv_prsv_pt", "node@1000", "a,b+c.d"])
  func goodNodeName(name: String) {
    #expect(KHORoot.isValidNodeName(name))
  }
}

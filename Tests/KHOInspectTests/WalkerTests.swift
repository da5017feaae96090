// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import KHOFormats
import KHOImage
import Testing

@testable import KHOInspect

@Suite("Handover walker")
struct WalkerTests {
  static func demoSource(_ demo: DemoHandover) -> HandoverSource {
    HandoverSource(capturing: demo.image, root: demo.rootAddress, rootBytes: nil, scratch: nil, path: "demo")
  }

  @Test("the demo decodes completely and cleanly, content equal to what was built")
  func demo() throws {
    let demo = try DemoHandover.build()
    let walker = HandoverWalker(source: Self.demoSource(demo))
    let r = walker.walk()
    #expect(r.problems.isEmpty, "\(r.problems)")
    #expect(r.root?.compatible == "kho-v4")
    #expect(walker.preserved == demo.preserved)
    #expect(r.memoryMap?.entries == demo.preserved.count)
    #expect(walker.luo?.state == demo.luo)
    #expect(r.components.map(\.name) == ["kexec-metadata", "LUO", "kho-xarray"])
    #expect(r.components.allSatisfy { $0.status == .decoded })
    #expect(r.kexecMetadata?.previousRelease == "6.19.0-demo")
    let big = r.luo?.sessions.first?.files.first { $0.token == 0xbeef }
    #expect(big?.memfd?.folios == DemoHandover.bigMemfdFolios(.x86_64))
  }

  @Test("pack keeps exactly what the walk needs; the bundle reads back the same")
  func packRoundTrip() throws {
    let demo = try DemoHandover.build()
    let (bundle, result, report) = try Packer.pack(Self.demoSource(demo))
    #expect(report.problems.isEmpty)
    #expect(result.pages < demo.image.pageCount)
    let reopened = try HandoverSource.open(bytes: Bytes(bundle), name: "bundle")
    #expect(reopened.kind == .bundle)
    #expect(reopened.rootAddress == demo.rootAddress)
    let w = HandoverWalker(source: reopened)
    let again = w.walk()
    #expect(again.problems.isEmpty, "\(again.problems)")
    #expect(w.preserved == demo.preserved)
    #expect(w.luo?.state == demo.luo)
    let enc = JSONEncoder()
    enc.outputFormatting = .sortedKeys
    var a = report
    var b = again
    a.source = b.source
    #expect(try enc.encode(a) == enc.encode(b))
    b.source = a.source
  }

  @Test("the kernel's images decode to what expected.json says")
  func kernelImages() throws {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/kernel-images")
    for (file, entries, sessions) in [("kho-v2-radix.elf", 13, nil), ("kho-v4-luo-v4.elf.zst", 3454, 55)]
      as [(String, Int, Int?)]
    {
      let w = HandoverWalker(source: try HandoverSource.open(dir.appendingPathComponent(file).path))
      let r = w.walk()
      #expect(r.problems.isEmpty, "\(file): \(r.problems)")
      #expect(r.memoryMap?.entries == entries)
      #expect(r.luo?.sessions.count == sessions)
    }
  }

  @Test("a debugfs copy decodes its blobs; memory beyond them is a note, not an error")
  func debugfs() throws {
    let demo = try DemoHandover.build()
    let fdt = try demo.readRoot()
    let dir = NSTemporaryDirectory() + "kho-debugfs-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let out = dir + "/out"
    try FileManager.default.createDirectory(atPath: out + "/sub_fdts", withIntermediateDirectories: true)
    try Data(fdt.bytes.array).write(to: URL(fileURLWithPath: out + "/fdt"))
    let root = try KHORoot.decode(fdt)
    for b in root.subBlobs {
      let bytes = try demo.image.bytes(at: b.address, count: Int(b.size ?? 0)).array
      try Data(bytes).write(to: URL(fileURLWithPath: out + "/sub_fdts/" + b.name))
    }
    try "0x1000000\n0x40000000\n".write(toFile: out + "/scratch_phys", atomically: true, encoding: .utf8)
    try "0x400000\n0x8000000\n".write(toFile: out + "/scratch_len", atomically: true, encoding: .utf8)
    let source = try HandoverSource.open(dir)
    #expect(source.kind == .debugfs)
    let r = HandoverWalker(source: source).walk()
    #expect(r.kexecMetadata?.kexecCount == 3)
    #expect(
      r.scratch == [PhysRange(start: 0x100_0000, size: 0x40_0000), PhysRange(start: 0x4000_0000, size: 0x800_0000)])
    #expect(!r.problems.isEmpty)
    #expect(r.problems.allSatisfy { $0.severity == .note && $0.kind == "notCaptured" }, "\(r.problems)")
    #expect(!r.hasProblems)
  }

  @Test("live capture from a fake debugfs tree and a kcore-style ELF equals the handover")
  func capture() throws {
    let demo = try DemoHandover.build()
    let fdt = try demo.readRoot()
    let dir = NSTemporaryDirectory() + "kho-capture-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try FileManager.default.createDirectory(atPath: dir + "/out/sub_fdts", withIntermediateDirectories: true)
    try Data(fdt.bytes.array).write(to: URL(fileURLWithPath: dir + "/out/fdt"))
    // A kcore-like ELF of all of the image's memory.
    let kcore = dir + "/kcore"
    try Data(try ELFCoreWriter().write(demo.image)).write(to: URL(fileURLWithPath: kcore))
    let source = try Capture.source(.init(debugfs: dir, mem: kcore))
    #expect(source.rootAddress == demo.rootAddress)
    let (bundle, _, report) = try Packer.pack(source, sourceName: "capture")
    #expect(report.problems.isEmpty, "\(report.problems)")
    let w = HandoverWalker(source: try HandoverSource.open(bytes: Bytes(bundle), name: "b"))
    w.walk()
    #expect(w.luo?.state == demo.luo)
    #expect(w.preserved == demo.preserved)
  }

  @Test("diff lists sessions, files and preserved ranges that changed")
  func diff() throws {
    let a = try DemoHandover.build()
    let b = try DemoHandover.build()
    let wa = HandoverWalker(source: Self.demoSource(a))
    let wb = HandoverWalker(source: Self.demoSource(b))
    #expect(HandoverDiff(wa, wb).isEmpty)
    let v4 = try HandoverSource.open(KernelPath.v4)
    let k = HandoverDiff(HandoverWalker(source: Self.demoSource(a)), HandoverWalker(source: v4))
    #expect(k.changes.contains { $0.what == "session added" && $0.path == "/LUO/sessions/vm-09" })
    #expect(k.changes.contains { $0.what == "session removed" && $0.path == "/LUO/sessions/agent-state" })
    #expect(k.preservedRemovedOmitted + k.preservedRemoved.count > 0)
  }

  @Test("golden images in Specs/vectors/images are current")
  func goldenImagesCurrent() throws {
    let update = ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil
    for c in GoldenImages.cases {
      let built = try GoldenImages.build(c)
      let url = GoldenImages.directory.appendingPathComponent(c.file)
      if update { try Data(built).write(to: url) }
      let committed = try Data(contentsOf: url)
      #expect(
        Array(committed) == built, "\(c.file) is stale: run UPDATE_GOLDEN=1 swift test --filter goldenImagesCurrent")
    }
  }

  @Test("each golden image reports the problem kind it was built to show", arguments: GoldenImages.cases.map(\.file))
  func goldenProblems(file: String) throws {
    let c = try #require(GoldenImages.cases.first { $0.file == file })
    let source = try HandoverSource.open(GoldenImages.directory.appendingPathComponent(file).path)
    let r = HandoverWalker(source: source).walk()
    if let kind = c.kind {
      #expect(r.problems.contains { $0.kind == kind }, "\(file): \(r.problems)")
      #expect(r.hasProblems)
    } else {
      #expect(r.problems.isEmpty)
    }
  }
}

enum KernelPath {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/kernel-images")
  static let v4 = directory.appendingPathComponent("kho-v4-luo-v4.elf.zst").path
  static let v2 = directory.appendingPathComponent("kho-v2-radix.elf").path
}

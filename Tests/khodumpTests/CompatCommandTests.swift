// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@Suite("khodump compat")
struct CompatCommandTests {
  static func temp(_ name: String, _ bytes: [UInt8]) throws -> String {
    let path = NSTemporaryDirectory() + "khodump-compat-\(UUID().uuidString)-\(name)"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  /// A little-endian ELF64 ET_EXEC with a `.liveupdate_versions` section (RFC layout).
  static func vmlinux(_ strings: [String]) -> [UInt8] {
    func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * UInt64($0))) & 0xff) } }
    var section = le(0x4c56_5550, 4) + le(1, 4)
    for s in strings { section += Array(s.utf8) + [UInt8](repeating: 0, count: 48 - s.utf8.count) }
    let names = Array("\0.liveupdate_versions\0.shstrtab\0".utf8)
    var b = [UInt8](repeating: 0, count: 64)
    let secOff = b.count
    b += section
    let namesOff = b.count
    b += names
    while b.count % 8 != 0 { b.append(0) }
    let shoff = b.count
    b += [UInt8](repeating: 0, count: 64)  // null section
    b +=
      le(1, 4) + le(1, 4) + le(2, 8) + le(0xffff_ffff_8200_0000, 8) + le(UInt64(secOff), 8)
      + le(UInt64(section.count), 8) + le(0, 8) + le(8, 8) + le(0, 8)
    b +=
      le(22, 4) + le(3, 4) + le(0, 8) + le(0, 8) + le(UInt64(namesOff), 8) + le(UInt64(names.count), 8)
      + le(0, 8) + le(1, 8) + le(0, 8)
    let header =
      [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1] + [UInt8](repeating: 0, count: 9) + le(2, 2) + le(62, 2)
      + le(1, 4) + le(0, 8) + le(0, 8) + le(UInt64(shoff), 8) + le(0, 4) + le(64, 2) + le(0, 2) + le(0, 2)
      + le(64, 2) + le(3, 2) + le(2, 2)
    b.replaceSubrange(0..<64, with: header)
    return b
  }

  @Test("versions VMLINUX prints the section's catalogue as a manifest")
  func versionsVmlinux() throws {
    let path = try Self.temp("vmlinux", Self.vmlinux(["luo-v5;block-v1", "memfd-v2;vmalloc-v1", "foo-v3"]))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let text = try KhodumpCLI.run(["compat", "versions", path])
    #expect(text.status == 0, "\(text.stderr)")
    #expect(text.stdout.contains("luo         read luo-v5;block-v1  write luo-v5;block-v1   [linux-mm, decoded]"))
    #expect(text.stdout.contains("note: 'foo-v3' is not in the registry"))
    let json = try KhodumpCLI.run(["compat", "versions", "--format", "json", path])
    let obj = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
    #expect(obj?["scope"] as? String == "liveupdate-versions")
    #expect(
      ((obj?["components"] as? [String: Any])?["memfd"] as? [String: Any])?["read"] as? [String] == [
        "memfd-v2;vmalloc-v1"
      ])
  }

  @Test("versions IMAGE lists every version the inspector's walker finds")
  func versionsImage() throws {
    let core = try KhodumpCLI.run(["compat", "versions", KhodumpCLI.kernelImage("kho-v4-luo-v4.elf.zst")])
    #expect(core.status == 0, "\(core.stderr)")
    #expect(core.stdout.contains("  kho             write kho-v4"))
    #expect(core.stdout.contains("  luo             write luo-v4"))
    #expect(core.stdout.contains("  memblock        write memblock-v1"))
    #expect(core.stdout.contains("  kexec-metadata  write kexec-metadata-v1"))
    #expect(core.stdout.contains("  memfd           write memfd-v1"))  // from the walker's LUO files
    #expect(core.stdout.contains("  memory-map      write radix-v1"))
    let dtb = try KhodumpCLI.run(["compat", "versions", KhodumpCLI.kernelImage("kho-v2-radix.dtb")])
    #expect(dtb.stdout.contains("write kho-v2"))
    #expect(
      dtb.stdout.contains("note: sub-node 'memblock' (memblock) present; its version needs physical memory to read"))
  }

  @Test("negotiate: text and JSON plans; exit 1 when a mandatory component is blocked")
  func negotiate() throws {
    let a = try Self.temp(
      "a.json",
      Array(
        #"{"schema":"kho-compat-manifest/1","subject":{"kind":"kernel","name":"a"},"components":{"memfd":{"write":["memfd-v2","memfd-v1"]},"pci":{"write":["pci-v2"]}}}"#
          .utf8))
    let b = try Self.temp(
      "b.json",
      Array(
        #"{"schema":"kho-compat-manifest/1","subject":{"kind":"kernel","name":"b"},"components":{"memfd":{"read":["memfd-v1"]}}}"#
          .utf8))
    let p = try Self.temp("p.json", Array(#"{"schema":"kho-compat-policy/1","optional":["pci"]}"#.utf8))
    defer { for f in [a, b, p] { try? FileManager.default.removeItem(atPath: f) } }
    let ok = try KhodumpCLI.run(["compat", "negotiate", "--from", a, "--to", b, "--policy", p])
    #expect(ok.status == 0, "\(ok.stderr)")
    #expect(ok.stdout.contains("memfd         mandatory  write memfd-v1"))
    #expect(ok.stdout.contains("pci           optional   dropped (optional)"))
    #expect(ok.stdout.hasSuffix("result: can proceed without 1 optional component\n"))
    let blocked = try KhodumpCLI.run(["compat", "negotiate", "--from", a, "--to", b, "--format", "json"])
    #expect(blocked.status == 1)
    let plan = try JSONSerialization.jsonObject(with: Data(blocked.stdout.utf8)) as? [String: Any]
    #expect(plan?["can_proceed"] as? Bool == false)
    let bad = try KhodumpCLI.run(["compat", "negotiate", "--from", a, "--to", p])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("unknownSchema at schema"))
  }

  @Test("matrix --format md prints the committed Specs/compat-matrix.md")
  func matrix() throws {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let committed = try String(contentsOf: repo.appendingPathComponent("Specs/compat-matrix.md"), encoding: .utf8)
    let r = try KhodumpCLI.run(["compat", "matrix"])
    #expect(r.status == 0)
    #expect(r.stdout == committed)
    let j = try KhodumpCLI.run(["compat", "matrix", "--format", "json"])
    #expect(
      (try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])?["schema"] as? String
        == "kho-compat-matrix/1")
  }
}

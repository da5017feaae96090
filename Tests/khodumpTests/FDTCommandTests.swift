// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@Suite("khodump fdt")
struct FDTCommandTests {
  @Test("prints the kernel's root FDT like dtc, with KHO u64 values annotated")
  func text() throws {
    let r = try KhodumpCLI.run(["fdt", KhodumpCLI.kernelImage("kho-v2-radix.dtb")])
    #expect(r.status == 0)
    #expect(r.stdout.hasPrefix("/dts-v1/;\n\n/ {\n\tcompatible = \"kho-v2\";\n"))
    #expect(
      r.stdout.contains("\tpreserved-memory-map = <0xf000 0x1000000>; /* 0x10006f000 */\n")
        || r.stdout.contains("preserved-memory-map = <"))
    #expect(r.stdout.contains("\tmemblock {\n"))
  }

  @Test("--raw output is byte-identical to dtc -I dtb -O dts")
  func rawMatchesDtc() throws {
    for name in ["kho-v2-radix.dtb", "kho-v4-luo-v4.dtb"] {
      let path = KhodumpCLI.kernelImage(name)
      let ours = try KhodumpCLI.run(["fdt", "--raw", path])
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      p.arguments = ["dtc", "-q", "-I", "dtb", "-O", "dts", path]
      let out = Pipe()
      p.standardOutput = out
      try p.run()
      let theirs = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      p.waitUntilExit()
      #expect(ours.status == 0)
      #expect(ours.stdout == theirs)
    }
  }

  @Test("reads zstd-compressed DTBs")
  func compressed() throws {
    let src = KhodumpCLI.kernelImage("kho-v4-luo-v4.dtb")
    let dst = NSTemporaryDirectory() + "khodump-\(UUID().uuidString).dtb.zst"
    defer { try? FileManager.default.removeItem(atPath: dst) }
    let z = Process()
    z.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    z.arguments = ["zstd", "-q", "-f", src, "-o", dst]
    try z.run()
    z.waitUntilExit()
    let plain = try KhodumpCLI.run(["fdt", src])
    let packed = try KhodumpCLI.run(["fdt", dst])
    #expect(packed.status == 0)
    #expect(packed.stdout == plain.stdout)
  }

  @Test("JSON gives the same tree with u64 readings")
  func json() throws {
    let r = try KhodumpCLI.run(["fdt", "--format", "json", KhodumpCLI.kernelImage("kho-v4-luo-v4.dtb")])
    #expect(r.status == 0)
    let tree = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    let children = tree?["children"] as? [[String: Any]] ?? []
    #expect(children.map { $0["name"] as? String } == ["memblock", "LUO", "kexec-metadata"])
    let luo = children.first { $0["name"] as? String == "LUO" }
    let props = luo?["properties"] as? [[String: Any]] ?? []
    #expect(props.first { $0["name"] as? String == "blob-size" }?["u64"] as? String == "0x20")
  }

  @Test("exit codes: 2 for usage errors and unreadable or malformed input")
  func exitCodes() throws {
    #expect(try KhodumpCLI.run(["fdt"]).status == 2)
    #expect(try KhodumpCLI.run(["fdt", "/nonexistent/file"]).status == 2)
    #expect(try KhodumpCLI.run(["no-such-verb"]).status == 2)
    let bad = NSTemporaryDirectory() + "khodump-bad-\(UUID().uuidString).dtb"
    defer { try? FileManager.default.removeItem(atPath: bad) }
    try Data([0xd0, 0x0d, 0xfe, 0xed, 0, 0, 0, 0x10]).write(to: URL(fileURLWithPath: bad))
    let r = try KhodumpCLI.run(["fdt", bad])
    #expect(r.status == 2)
    #expect(r.stderr.contains("truncated"))
    #expect(try KhodumpCLI.run(["fdt", "--help"]).status == 0)
    #expect(try KhodumpCLI.run(["--help"]).status == 0)
  }

  @Test("demo builds, packs, re-opens and inspects a full handover")
  func demo() throws {
    let r = try KhodumpCLI.run(["demo"])
    #expect(r.status == 0)
    #expect(r.stdout.contains(": kho-v4 (345 bytes)"))
    #expect(r.stdout.contains("LUO  raw luo-v5"))
    #expect(r.stdout.contains("kho-xarray  raw kho-xarray-v2"))
    #expect(r.stdout.hasSuffix("problems: none\n"))
  }
}

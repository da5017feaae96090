// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// Every reading verb over QEMU's own dumps of the two kernel-written
/// handovers (Tests/KHOImageTests/QEMU, made by `make fixtures`): its ELF
/// core, its kdump-compressed dump in makedumpfile's flattened form, and
/// that dump reassembled by `makedumpfile -R`. Each must say what the
/// kernel's own image says, with and without `--fdt-phys`.
@Suite("khodump over QEMU dumps")
struct QEMUDumpCLITests {
  static let dir = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("KHOImageTests/QEMU")
  static let shared = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/kernel-images")

  /// (case, root address, the kernel image it was made from)
  static let cases = [
    ("kho-v2-radix", "0x1021a8000", "kho-v2-radix.elf"),
    ("kho-v4-luo-v4", "0x1008fa000", "kho-v4-luo-v4.elf.zst"),
  ]
  /// (file suffix, container, wrappers)
  static let containers = [
    ("qemu-elf", "elf-core", ["zstd"]),
    ("qemu-kdump-zlib", "kdump-compressed", ["zstd"]),
    ("qemu-kdump-zlib-flat", "kdump-compressed", ["zstd", "flattened"]),
  ]

  static func verbs(_ image: String) -> [[String]] {
    [
      ["pages", image], ["sessions", image, "--format", "json"], ["validate", image, "--format", "json"],
      ["inspect", image, "--format", "json"], ["vms", image, "--format", "json"], ["devices", image],
    ]
  }

  /// An output with the image's name taken out, and the lines that
  /// describe the container rather than the handover (its captured bytes
  /// and ranges differ: QEMU dumps all of the guest's RAM).
  static func run(_ args: [String], name: String) throws -> (Int32, String) {
    let r = try KhodumpCLI.run(args)
    let lines = r.stdout.replacingOccurrences(of: name, with: "IMAGE")
      .replacingOccurrences(of: "\"kind\" : \"kdump-compressed\"", with: "\"kind\" : \"elf-core\"").split(
        separator: "\n", omittingEmptySubsequences: false
      )
      .filter { !$0.contains("\"captured_bytes\"") && !$0.contains("\"segments\" :") }
    return (r.status, lines.joined(separator: "\n"))
  }

  @Test("every verb agrees with the kernel's image", arguments: cases.map(\.0))
  func agree(name: String) throws {
    let c = try #require(Self.cases.first { $0.0 == name })
    let reference = Self.shared.appendingPathComponent(c.2).path
    for (suffix, _, _) in Self.containers {
      let dump = Self.dir.appendingPathComponent("\(name).\(suffix).zst").path
      for (want, got) in zip(Self.verbs(reference), Self.verbs(dump)) {
        let a = try Self.run(want, name: reference)
        #expect(!a.1.isEmpty || a.0 != 0, "\(want) printed nothing")
        for extra in [[String](), ["--fdt-phys", c.1]] {
          let b = try Self.run(got + extra, name: dump)
          #expect(b.0 == a.0, "\(suffix) \(got + extra): exit \(b.0), kernel image \(a.0)")
          #expect(b.1 == a.1, "\(suffix) \(got + extra) differs from the kernel image")
        }
      }
    }
  }

  @Test("info names the container, its wrappers and how the root was found", arguments: cases.map(\.0))
  func info(name: String) throws {
    let c = try #require(Self.cases.first { $0.0 == name })
    for (suffix, container, wrappers) in Self.containers {
      let dump = Self.dir.appendingPathComponent("\(name).\(suffix).zst").path
      let r = try KhodumpCLI.run(["info", dump, "--format", "json"])
      #expect(r.status == 0, "\(r.stderr)")
      let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
      #expect(doc["container"] as? String == container)
      #expect(doc["wrappers"] as? [String] == wrappers)
      #expect(doc["page_size"] as? Int == 4096)
      let root = try #require(doc["root"] as? [String: Any])
      #expect(root["address"] as? String == c.1)
      #expect((root["found_by"] as? [[String: Any]])?.first?["kind"] as? String == "scan")
      // QEMU captured the 64 MiB above 4 GiB, where the handover lives.
      #expect((doc["captured_bytes"] as? Int ?? 0) >= 64 << 20)
      if container == "kdump-compressed" {
        #expect((doc["compression"] as? [String])?.contains("zlib") == true)
      }
    }
  }

  @Test("scan finds the one root in each container and says how")
  func scan() throws {
    for (name, root, _) in Self.cases {
      for (suffix, _, _) in Self.containers {
        let r = try KhodumpCLI.run(["scan", Self.dir.appendingPathComponent("\(name).\(suffix).zst").path])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix(root + "\t") == true)
        #expect(lines.first?.hasSuffix("found by scan") == true)
      }
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// Every verb over the golden images in Specs/vectors/images, with the
/// exit code and problem kind each must give.
@Suite("khodump over golden images")
struct GoldenImageCLITests {
  static let images = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Specs/vectors/images")

  static func path(_ f: String) -> String { images.appendingPathComponent(f).path }

  static let cases: [(String, Int32, String?)] = [
    ("demo.kho", 0, nil),
    ("session-chain-cycle.kho", 1, "cycle"),
    ("session-block-count-zero.kho", 1, "badCount"),
    ("flb-pointer-not-captured.kho", 1, "notCaptured"),
    ("root-fdt-truncated.kho", 1, "truncated"),
    ("root-unknown-compatible.kho", 1, "unknownVersion"),
  ]

  @Test("validate: exit code and problem kind", arguments: cases.map(\.0))
  func validate(file: String) throws {
    let c = try #require(Self.cases.first { $0.0 == file })
    let r = try KhodumpCLI.run(["validate", "--format", "json", Self.path(file)])
    #expect(r.status == c.1, "\(file): \(r.stdout) \(r.stderr)")
    let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    let kinds = (doc?["problems"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
    if let kind = c.2 { #expect(kinds.contains(kind), "\(file): \(kinds)") } else { #expect(kinds.isEmpty) }
    #expect(doc?["clean"] as? Bool == (c.1 == 0))
  }

  @Test("every reading verb runs on the clean bundle")
  func verbs() throws {
    let demo = Self.path("demo.kho")
    for args in [
      ["inspect", demo], ["inspect", demo, "--format", "json"], ["inspect", demo, "--format", "dot"],
      ["inspect", demo, "--depth", "1"], ["inspect", demo, "--only", "LUO"],
      ["sessions", demo], ["sessions", demo, "--format", "json"], ["scan", demo],
    ] {
      let r = try KhodumpCLI.run(args)
      #expect(r.status == 0, "\(args): \(r.stderr)")
      #expect(!r.stdout.isEmpty)
    }
    let dot = try KhodumpCLI.run(["inspect", demo, "--format", "dot"])
    #expect(dot.stdout.hasPrefix("digraph handover {"))
    #expect(dot.stdout.contains("session vm-00"))
  }

  @Test("a damaged part is reported while everything else still prints")
  func partial() throws {
    let r = try KhodumpCLI.run(["inspect", Self.path("flb-pointer-not-captured.kho")])
    #expect(r.status == 1)
    #expect(r.stdout.contains("preserved-memory-map  radix-v1"))
    #expect(r.stdout.contains("error: notCaptured at /LUO"))
  }

  @Test("diff between the clean and a corrupted image exits 1 and names the change")
  func diff() throws {
    let same = try KhodumpCLI.run(["diff", Self.path("demo.kho"), Self.path("demo.kho")])
    #expect(same.status == 0)
    #expect(same.stdout == "no differences\n")
    let r = try KhodumpCLI.run(["diff", Self.path("demo.kho"), Self.path("root-unknown-compatible.kho")])
    #expect(r.status == 1)
    #expect(r.stdout.contains("~ version /: kho-v4 -> kho-v9"))
  }

  @Test("pack of a bundle gives a bundle readelf lists")
  func packReadelf() throws {
    let out = NSTemporaryDirectory() + "kho-pack-\(UUID().uuidString).elf"
    defer { try? FileManager.default.removeItem(atPath: out) }
    let r = try KhodumpCLI.run(["pack", Self.path("demo.kho"), "--out", out, "--no-compress"])
    #expect(r.status == 0, "\(r.stderr)")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["readelf", "-l", out]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(text.contains("Elf file type is CORE"))
    #expect(text.contains("LOAD"))
    #expect(text.contains("NOTE"))
  }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// `khodump convert IMAGE --to … --out FILE`: exit codes, output, and that
/// every verb reads the result.
@Suite("khodump convert")
struct ConvertCommandTests {
  static let images = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Specs/vectors/images")
  static let kernel = KhodumpCLI.kernelImage("kho-v4-luo-v4.elf.zst")

  static func temp(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("khodump-convert-\(UUID().uuidString)-\(name)").path
  }

  static func json(_ s: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
  }

  /// Sessions as (name, [token, memfd size, pos, folios]) from `sessions --format json`, addresses left out.
  static func sessions(_ file: String) throws -> [String] {
    let r = try KhodumpCLI.run(["sessions", file, "--format", "json"])
    #expect(r.status == 0, "\(r.stderr)")
    let doc = try json(r.stdout)
    let luo = doc["luo"] as? [String: Any] ?? doc
    let list = luo["sessions"] as? [[String: Any]] ?? []
    return list.map { s in
      let files = (s["files"] as? [[String: Any]] ?? []).map { f -> String in
        let m = f["memfd"] as? [String: Any] ?? [:]
        return "\(f["token"] ?? "") \(m["size"] ?? "") \(m["pos"] ?? "") \(m["folios"] ?? "")"
      }
      return "\(s["name"] ?? "") " + files.joined(separator: ",")
    }
  }

  @Test("the kernel image to luo-v5 + memfd-v2 and back: exit 0, clean, same sessions")
  func roundTrip() throws {
    let there = Self.temp("there.kho")
    let back = Self.temp("back.kho")
    defer {
      try? FileManager.default.removeItem(atPath: there)
      try? FileManager.default.removeItem(atPath: back)
    }
    let r = try KhodumpCLI.run(["convert", Self.kernel, "--to", "luo-v5,memfd-v2", "--out", there])
    #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
    #expect(r.stdout.contains("luo: luo-v4 → luo-v5"))
    #expect(r.stdout.contains("memfd: memfd-v1 → memfd-v2"))
    let v = try KhodumpCLI.run(["validate", there])
    #expect(v.status == 0 && v.stdout.contains("clean"), "\(v.stdout)")
    let inspect = try KhodumpCLI.run(["inspect", there, "--format", "json"])
    #expect(inspect.status == 0)
    #expect(inspect.stdout.contains("\"luo-v5\""))
    let original = try Self.sessions(Self.kernel)
    #expect(original.count == 55)
    #expect(try Self.sessions(there) == original)

    let j = try KhodumpCLI.run(["convert", there, "--to", "luo-v4,memfd-v1", "--out", back, "--format", "json"])
    #expect(j.status == 0, "\(j.stdout) \(j.stderr)")
    let doc = try Self.json(j.stdout)
    #expect(doc["status"] as? String == "converted")
    let summary = try #require(doc["summary"] as? [String: Any])
    #expect((summary["after"] as? [String: String])?["luo"] == "luo-v4")
    #expect((summary["before"] as? [String: String])?["memfd"] == "memfd-v2")
    #expect(try KhodumpCLI.run(["validate", back]).status == 0)
    #expect(try Self.sessions(back) == original)
  }

  @Test("a lossy target is refused with exit 1 and every offending file")
  func refused() throws {
    let out = Self.temp("refused.kho")
    let demo = Self.images.appendingPathComponent("demo.kho").path
    let r = try KhodumpCLI.run(["convert", demo, "--to", "memfd-v1", "--out", out])
    #expect(r.status == 1)
    #expect(r.stdout.contains("refused"))
    #expect(
      r.stdout.contains("/LUO/sessions[0]/files[0].seals: memfd token 0x1000 of session 'vm-00' has seals 0x1 (SEAL)"))
    #expect(!FileManager.default.fileExists(atPath: out))

    let j = try KhodumpCLI.run(["convert", demo, "--to", "kho-v2", "--out", out, "--format", "json"])
    #expect(j.status == 1)
    let doc = try Self.json(j.stdout)
    #expect(doc["status"] as? String == "refused")
    #expect(doc["kind"] as? String == "lossy")
    let paths = (doc["violations"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
    #expect(paths == ["/kexec-metadata", "/LUO", "/kho-xarray"])

    // A source with errors is refused too.
    let broken = Self.images.appendingPathComponent("session-chain-cycle.kho").path
    let b = try KhodumpCLI.run(["convert", broken, "--to", "luo-v4", "--out", out, "--format", "json"])
    #expect(b.status == 1)
    #expect(try Self.json(b.stdout)["kind"] as? String == "unreadableSource")
  }

  @Test("usage errors and unreadable input: exit 2")
  func usage() throws {
    let out = Self.temp("usage.kho")
    #expect(try KhodumpCLI.run(["convert", Self.kernel, "--to", "luo-v9", "--out", out]).status == 2)
    #expect(try KhodumpCLI.run(["convert", Self.kernel, "--to", "luo-v4,luo-v5", "--out", out]).status == 2)
    #expect(try KhodumpCLI.run(["convert", Self.kernel, "--to", "luo-v5"]).status == 2)
    #expect(try KhodumpCLI.run(["convert", "/nonexistent.kho", "--to", "luo-v5", "--out", out]).status == 2)
  }
}

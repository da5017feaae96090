// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@Suite("khodump sessions / memfd")
struct SessionsCommandTests {
  static let image = KhodumpCLI.kernelImage("kho-v4-luo-v4.elf.zst")

  @Test("sessions of the kernel's luo-v4 image as JSON")
  func json() throws {
    let r = try KhodumpCLI.run(["sessions", "--format", "json", Self.image])
    #expect(r.status == 0)
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(Set(doc.keys) == ["liveupdate_number", "sessions", "flbs"])
    #expect(doc["liveupdate_number"] as? Int == 1)
    let sessions = try #require(doc["sessions"] as? [[String: Any]])
    #expect(sessions.count == 55)
    #expect(sessions.first?["name"] as? String == "vm-00")
    let files = try #require(sessions.first?["files"] as? [[String: Any]])
    #expect(files.count == 100)
    #expect(files.first?["compatible"] as? String == "memfd-v1")
    #expect(files.first?["token"] as? Int == 4096)
    #expect(files.first?["data"] as? String == "0x100dc9000")
    #expect((doc["flbs"] as? [Any])?.isEmpty == true)
  }

  @Test("sessions as a tree")
  func text() throws {
    let r = try KhodumpCLI.run(["sessions", Self.image])
    #expect(r.status == 0)
    #expect(
      r.stdout.hasPrefix("LUO luo-v4 at 0x103d80000 (32 bytes), live update number 1\nsessions: 55, files: 103\n"))
    #expect(r.stdout.contains("├─ vm-00  (100 files)\n│  ├─ token 4096 (0x1000)  memfd-v1  data 0x100dc9000\n"))
    #expect(r.stdout.contains("└─ vm-54  (1 file)\n"))
  }

  @Test("memfd metadata, and contents whose folios were not captured")
  func memfd() throws {
    let out = NSTemporaryDirectory() + "khodump-memfd-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: out) }
    let r = try KhodumpCLI.run([
      "memfd", Self.image, "--session", "vm-00", "--token", "0x1000", "--format", "json", "--out", out,
    ])
    #expect(r.status == 1)
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(doc["size"] as? Int == 24_845_102)
    #expect(doc["pos"] as? Int == 4242)
    #expect(doc["nr_folios"] as? Int == 3000)
    #expect(doc["assumed_order_zero"] as? Bool == false)  // orders come from the radix map
    #expect(r.stderr.contains("notCaptured at /LUO/sessions[0]/files[0]/memfd/folios[0]"))
    #expect(r.stderr.contains("more problems"))
    let attrs = try FileManager.default.attributesOfItem(atPath: out)
    #expect((attrs[.size] as? Int) == 24_845_102)
  }

  @Test("an empty memfd extracts cleanly; unknown names are usage errors")
  func emptyAndMissing() throws {
    let out = NSTemporaryDirectory() + "khodump-memfd-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: out) }
    let ok = try KhodumpCLI.run(["memfd", Self.image, "--session", "vm-54", "--token", "21504", "--out", out])
    #expect(ok.status == 0)
    #expect(ok.stdout.contains("size 0  pos 0"))
    let bad = try KhodumpCLI.run(["memfd", Self.image, "--session", "nope", "--token", "1"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("no session named 'nope'"))
  }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@Suite("khodump pages")
struct PagesCommandTests {
  static func expectedLines(_ name: String) throws -> [String] {
    let data = try Data(contentsOf: KhodumpCLI.kernelImages.appendingPathComponent("\(name).expected.json"))
    let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let preserved = try #require(doc["preserved"] as? [String: Any])
    let pairs = try #require(preserved["pairs"] as? [[NSNumber]])
    return pairs.map { "0x\(String($0[0].uint64Value, radix: 16)) \($0[1].intValue)" }
  }

  @Test(
    "lists the kernel images' preserved sets line for line",
    arguments: [
      ("kho-v2-radix", "kho-v2-radix.elf"), ("kho-v4-luo-v4", "kho-v4-luo-v4.elf.zst"),
    ])
  func listing(name: String, file: String) throws {
    let r = try KhodumpCLI.run(["pages", KhodumpCLI.kernelImage(file)])
    #expect(r.status == 0)
    #expect(r.stderr.isEmpty)
    #expect(r.stdout == (try Self.expectedLines(name)).map { $0 + "\n" }.joined())
  }

  @Test("--summary counts per order and total bytes")
  func summary() throws {
    let r = try KhodumpCLI.run(["pages", "--summary", KhodumpCLI.kernelImage("kho-v4-luo-v4.elf.zst")])
    #expect(r.status == 0)
    #expect(
      r.stdout == """
        order     entries           pages                 bytes
            0        3443            3443              14102528
            1           4               8                 32768
            9           7            3584              14680064
        total        3454            7035              28815360
        total 27.5 MiB

        """)
  }

  @Test("JSON entries and JSON summary")
  func json() throws {
    let image = KhodumpCLI.kernelImage("kho-v2-radix.elf")
    let r = try KhodumpCLI.run(["pages", "--format", "json", image])
    #expect(r.status == 0)
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(doc["format"] as? String == "radix-v1")
    #expect(doc["map"] as? String == "0x10006f000")
    let entries = try #require(doc["entries"] as? [[String: Any]])
    #expect(entries.count == 13)
    #expect(entries.first?["phys"] as? String == "0x1000")
    #expect(entries.last?["phys"] as? String == "0xfffffffff000")
    #expect(entries.first?["order"] as? Int == 0)
    let s = try KhodumpCLI.run(["pages", "--format", "json", "--summary", image])
    let sum = try #require(try JSONSerialization.jsonObject(with: Data(s.stdout.utf8)) as? [String: Any])
    #expect(sum["total_entries"] as? Int == 13)
    #expect((sum["orders"] as? [[String: Any]])?.map { $0["order"] as? Int } == [0, 1, 8, 9, 10, 18])
  }

  @Test("a lone DTB: the map's address, not captured, status 1")
  func dtbOnly() throws {
    let r = try KhodumpCLI.run(["pages", KhodumpCLI.kernelImage("kho-v2-radix.dtb")])
    #expect(r.status == 1)
    #expect(r.stdout.contains("preserved-memory-map 0x10006f000 (radix-v1, kho-v2) is not captured"))
  }

  /// The kho-v2 image with the first root-table entry pointed at memory the
  /// core does not hold.
  func brokenImage() throws -> String {
    var elf = [UInt8](try Data(contentsOf: URL(fileURLWithPath: KhodumpCLI.kernelImage("kho-v2-radix.elf"))))
    func u(_ o: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(elf[o + $1]) << (8 * UInt64($1)) } }
    let phoff = Int(u(0x20, 8))
    let phnum = Int(u(0x38, 2))
    let root: UInt64 = 0x1_0006_f000
    for i in 0..<phnum {
      let ph = phoff + i * 56
      let offset = Int(u(ph + 8, 8))
      let paddr = u(ph + 24, 8)
      let size = u(ph + 32, 8)
      guard u(ph, 4) == 1, paddr <= root, root < paddr + size else { continue }
      let page = offset + Int(root - paddr)
      let first = try #require((0..<512).first { u(page + $0 * 8, 8) != 0 })
      for b in 0..<8 { elf[page + first * 8 + b] = UInt8((0x7_0000_0000 as UInt64) >> (8 * UInt64(b)) & 0xff) }
      let path = NSTemporaryDirectory() + "khodump-pages-\(UUID().uuidString).elf"
      try Data(elf).write(to: URL(fileURLWithPath: path))
      return path
    }
    Issue.record("root table not found in the core")
    return ""
  }

  @Test("a broken map: what is reachable, each problem located, status 1")
  func broken() throws {
    let path = try brokenImage()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try KhodumpCLI.run(["pages", path])
    #expect(r.status == 1)
    #expect(r.stderr.contains("notCaptured at /preserved-memory-map/L5[0] (0x700000000)"))
    let lines = r.stdout.split(separator: "\n")
    #expect(!lines.isEmpty && lines.count < 13)
  }
}

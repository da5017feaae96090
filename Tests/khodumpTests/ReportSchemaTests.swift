// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// Pins the `inspect --format json` schema to Specs/khodump-json.md.
@Suite("JSON schema")
struct ReportSchemaTests {
  static let spec = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Specs/khodump-json.md")

  /// Documented key paths: (path without `?`, required).
  static func documented() throws -> [(String, Bool)] {
    let text = try String(contentsOf: spec, encoding: .utf8)
    guard let start = text.range(of: "```keys\n"),
      let end = text.range(of: "```", range: start.upperBound..<text.endIndex)
    else { return [] }
    return text[start.upperBound..<end.lowerBound].split(separator: "\n").map { line in
      (line.replacingOccurrences(of: "?", with: ""), !line.contains("?"))
    }
  }

  /// Key paths of a JSON document, with page orders folded to `<order>`.
  static func paths(_ o: Any, _ prefix: String = "", into out: inout Set<String>) {
    if let d = o as? [String: Any] {
      for (k, v) in d {
        let key = prefix.hasSuffix("per_order") ? "<order>" : k
        // A payload's keys are its struct's field names (Specs/payloads.md).
        if key == "payload" {
          out.insert(prefix + ".payload.*")
          continue
        }
        paths(v, prefix.isEmpty ? key : prefix + "." + key, into: &out)
      }
    } else if let a = o as? [Any] {
      if a.isEmpty { out.insert(prefix + "[]") }
      for v in a { paths(v, prefix + "[]", into: &out) }
    } else {
      out.insert(prefix)
    }
  }

  @Test("inspect JSON emits only documented keys, and every required one")
  func pinned() throws {
    let images = Self.spec.deletingLastPathComponent().appendingPathComponent("vectors/images")
    var emitted = Set<String>()
    for f in ["demo.kho", "session-chain-cycle.kho"] {
      let r = try KhodumpCLI.run(["inspect", "--format", "json", images.appendingPathComponent(f).path])
      let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
      Self.paths(doc, into: &emitted)
    }
    let doc = try Self.documented()
    #expect(doc.count > 40)
    let known = Set(doc.map(\.0))
    // Empty arrays show as "x[]"; they are documented through their elements.
    let undocumented = emitted.filter { p in !known.contains(p) && !known.contains { $0.hasPrefix(p) } }
    #expect(undocumented.isEmpty, "undocumented keys: \(undocumented.sorted())")
    let missing = doc.filter { $0.1 && !emitted.contains($0.0) }.map(\.0)
    #expect(missing.isEmpty, "documented but never emitted: \(missing)")
  }
}

/// Pins the `vms --format json` shape to Specs/khodump-json.md.
@Suite("vms JSON")
struct VMsSchemaTests {
  @Test("vms on the demo bundle: one complete VM, with its memory and vCPUs")
  func demo() throws {
    let images = ReportSchemaTests.spec.deletingLastPathComponent().appendingPathComponent("vectors/images")
    let r = try KhodumpCLI.run(["vms", "--format", "json", images.appendingPathComponent("demo.kho").path])
    #expect(r.status == 0, "\(r.stderr)")
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(Set(doc.keys) == ["vms", "problems"])
    let vms = try #require(doc["vms"] as? [[String: Any]])
    #expect(vms.count == 1)
    let vm = vms[0]
    #expect(
      Set(vm.keys) == [
        "session", "token", "type", "layout", "data", "memory", "vcpus", "other_files", "devices", "complete",
        "problems",
      ])
    #expect(vm["devices"] as? [String] == ["0000:01:00.0", "0000:01:00.1", "0000:02:00.0"])
    #expect(vm["complete"] as? Bool == true)
    #expect(vm["layout"] as? String == "K-A")
    let memory = try #require(vm["memory"] as? [[String: Any]])
    #expect(memory.map { $0["token"] as? Int } == [0x11, 0x12])
    #expect(Set(memory[0].keys) == ["token", "compatible", "size", "flags", "nr_folios", "preserved_bytes"])
    let vcpus = try #require(vm["vcpus"] as? [[String: Any]])
    #expect(vcpus.map { $0["vcpu_id"] as? Int } == [0, 1])
    let text = try KhodumpCLI.run(["vms", images.appendingPathComponent("demo.kho").path])
    #expect(text.stdout.contains("VM token 0x10  session kvm-guest-07  type 0  layout K-A  complete"))
    #expect(text.stdout.contains("vcpu 1  token 0x21  caretaker CB-1 ATTACHED"))
  }

  @Test("sessions JSON: payload objects keyed by the upstream field names")
  func sessionsPayload() throws {
    let images = ReportSchemaTests.spec.deletingLastPathComponent().appendingPathComponent("vectors/images")
    let r = try KhodumpCLI.run(["sessions", "--format", "json", images.appendingPathComponent("demo.kho").path])
    #expect(r.status == 0, "\(r.stderr)")
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    let sessions = try #require(doc["sessions"] as? [[String: Any]])
    let kvm = try #require(sessions.first { $0["name"] as? String == "kvm-guest-07" })
    let files = try #require(kvm["files"] as? [[String: Any]])
    let gm = try #require(files[1]["payload"] as? [String: Any])
    #expect(gm["format"] as? String == "guest_memfd_luo_v1")
    #expect(gm["vm_token"] as? String == "0x10")
    #expect(gm["size"] as? Int == 0x4000)
    #expect(gm["nr_folios"] as? Int == 3)
    let folios = try #require(gm["folios"] as? [String: Any])
    #expect(Set(folios.keys) == ["first", "total_pages", "flags", "order", "entries"])
    let entries = try #require(folios["entries"] as? [[String: Any]])
    #expect(entries.first?["pfn"] as? String == "0x600000" && entries.first?["index"] as? Int == 0)
    let flbs = try #require(doc["flbs"] as? [[String: Any]])
    let hugetlb = try #require(flbs.first { $0["name"] as? String == "hugetlb-v1" }?["payload"] as? [String: Any])
    #expect(hugetlb["nr_hstates"] as? Int == 2)
    // A memfd file has no registered payload decoder in this layer.
    #expect(files.allSatisfy { $0["compatible"] as? String != "memfd-v2" || $0["payload"] == nil })
  }
}

/// Pins the `devices --format json` shape to Specs/khodump-json.md.
@Suite("devices JSON")
struct DevicesSchemaTests {
  @Test("devices on the demo bundle: the four preserved devices by BDF, with VFIO and IOMMU state")
  func demo() throws {
    let images = ReportSchemaTests.spec.deletingLastPathComponent().appendingPathComponent("vectors/images")
    let r = try KhodumpCLI.run(["devices", "--format", "json", images.appendingPathComponent("demo.kho").path])
    #expect(r.status == 0, "\(r.stderr)")
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(Set(doc.keys) == ["devices", "problems"])
    let devices = try #require(doc["devices"] as? [[String: Any]])
    #expect(devices.map { $0["bdf"] as? String } == ["0000:00:01.0", "0000:01:00.0", "0000:01:00.1", "0000:02:00.0"])
    #expect(devices.map { $0["refcount"] as? Int } == [3, 1, 1, 1])
    #expect(devices.allSatisfy { $0["complete"] as? Bool == true && $0["pci_layout"] as? String == "pci P7" })
    let d = devices[1]
    #expect(Set(d.keys) == ["bdf", "domain", "refcount", "pci_layout", "vfio", "iommu", "complete", "problems"])
    let vfio = try #require(d["vfio"] as? [String: Any])
    #expect(
      vfio["layout"] as? String == "V7" && vfio["session"] as? String == "kvm-guest-07"
        && vfio["reset_works"] as? Int == 1)
    let iommu = try #require(d["iommu"] as? [String: Any])
    #expect(iommu["layout"] as? String == "I3" && iommu["levels"] as? Int == 4 && iommu["vasz"] as? Int == 48)
    #expect(iommu["mapped_bytes"] as? Int == 0x4000 && iommu["table_pages"] as? Int == 4)
    #expect(devices[0]["vfio"] == nil && devices[0]["iommu"] == nil)  // the bridge: preserved, not passed through
    let text = try KhodumpCLI.run(["devices", images.appendingPathComponent("demo.kho").path])
    #expect(text.stdout.contains("0000:01:00.0  refcount 1  pci P7  complete"))
    #expect(text.stdout.contains("iommu I3  domain "))
  }
}

/// Hostile input (issue 20, class 3): `memfd --out` streams and leaves holes sparse.
@Suite("memfd --out streaming")
struct MemfdOutTests {
  @Test("a 519 MiB memfd whose folios were not captured writes a sparse file, not 519 MiB of zeros")
  func sparse() throws {
    let images = ReportSchemaTests.spec.deletingLastPathComponent().appendingPathComponent("vectors/images")
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("memfd-\(UUID().uuidString).bin").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    let r = try KhodumpCLI.run([
      "memfd", images.appendingPathComponent("demo.kho").path, "--session", "vm-00", "--token", "0xbeef", "--out", out,
    ])
    #expect(r.status == 1)  // the folio pages are not in the bundle: reported
    #expect(r.stderr.contains("not captured") || r.stderr.contains("notCaptured"))
    var st = stat()
    #expect(stat(out, &st) == 0)
    #expect(st.st_size == 132_864 * 4096)
    #expect(Int(st.st_blocks) * 512 < 1 << 20, "allocated \(Int(st.st_blocks) * 512) bytes")
  }

  @Test("a file that cannot be written is named with the system's reason, not NSCocoaErrorDomain")
  func unwritable() throws {
    let images = ReportSchemaTests.spec.deletingLastPathComponent().appendingPathComponent("vectors/images")
    let r = try KhodumpCLI.run([
      "pack", images.appendingPathComponent("demo.kho").path, "--out", "/nonexistent-dir/x.kho",
    ])
    #expect(r.status == 2)
    #expect(!r.stderr.contains("NSCocoaErrorDomain"), "\(r.stderr)")
    #expect(r.stderr.contains("/nonexistent-dir/x.kho"))
  }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCompat
import Testing

@Suite("Capability manifests and policies")
struct ManifestTests {
  static let example = """
    {
      "schema": "kho-compat-manifest/1",
      "subject": { "kind": "kernel", "name": "host-7.2", "release": "v7.2-rc1" },
      "components": {
        "kho": { "read": ["kho-v4"], "write": ["kho-v4"] },
        "memfd": { "read": ["memfd-v1", "memfd-v2"], "write": ["memfd-v2", "memfd-v1"], "multi_write": true },
        "pci": { "write": ["pci-v2"] }
      },
      "profiles": { "current": ["kho-v4", "memfd-v2"], "previous": ["kho-v4", "memfd-v1"] }
    }
    """

  func decodeKind(_ json: String) -> CompatError? {
    do { _ = try CapabilityManifest.decode(Array(json.utf8)) } catch { return error }
    return nil
  }

  @Test("a hand-written manifest decodes, and its JSON round-trips byte-for-byte")
  func roundTrip() throws {
    let m = try CapabilityManifest.decode(Array(Self.example.utf8))
    #expect(m.scope == .all)
    #expect(m.capability(.memfd).multiWrite == true)
    #expect(m.capability("pci").read == [])
    #expect(m.profile("previous") == ["kho-v4", "memfd-v1"])
    let again = try CapabilityManifest.decode(m.jsonBytes())
    #expect(again == m)
    #expect(again.jsonBytes() == m.jsonBytes())
    #expect(String(decoding: m.jsonBytes(), as: UTF8.self).contains("\"multi_write\" : true"))
  }

  @Test(
    "invalid manifests are refused with the kind and the JSON path",
    arguments: [
      ("{", CompatError.Kind.invalidJSON, ""),
      ("[]", .invalidJSON, ""),
      (#"{"schema":"kho-compat-manifest/1","components":{}}"#, .invalidJSON, ""),
      (#"{"schema":"x/9","subject":{"kind":"kernel"},"components":{}}"#, .unknownSchema, "schema"),
      (
        #"{"schema":"kho-compat-manifest/1","subject":{"kind":"toaster"},"components":{}}"#, .invalidJSON,
        "subject.kind"
      ),
      (
        #"{"schema":"kho-compat-manifest/1","subject":{"kind":"kernel"},"components":{"luo":{"read":[1]}}}"#,
        .invalidJSON, "components.luo.read[0]"
      ),
      (
        #"{"schema":"kho-compat-manifest/1","subject":{"kind":"kernel"},"components":{"luo":{"read":["luo-v1","luo-v1"]}}}"#,
        .duplicate, "components.luo.read[1]"
      ),
      (
        #"{"schema":"kho-compat-manifest/1","subject":{"kind":"kernel"},"components":{"memfd":{"write":["luo-v5"]}}}"#,
        .componentMismatch, "components.memfd.write[0]"
      ),
      (
        #"{"schema":"kho-compat-manifest/1","subject":{"kind":"kernel"},"components":{"kho":{"read":["kho-v4;vmalloc-v1;radix-v1"]}}}"#,
        .subComponentOrder, "components.kho.read[0]"
      ),
      (
        #"{"schema":"kho-compat-manifest/1","subject":{"kind":"kernel"},"components":{"k o":{}}}"#, .badName,
        "components.k o"
      ),
      (
        #"{"schema":"kho-compat-manifest/1","subject":{"kind":"kernel"},"components":{"kho":{"read":["kho-v4"]}},"profiles":{"p":["kho-v3"]}}"#,
        .undeclared, "profiles.p[0]"
      ),
      (
        #"{"schema":"kho-compat-manifest/1","subject":{"kind":"kernel"},"scope":"some","components":{}}"#, .invalidJSON,
        "scope"
      ),
    ])
  func invalid(json: String, kind: CompatError.Kind, location: String) {
    let e = decodeKind(json)
    #expect(e?.kind == kind, "\(json)")
    #expect(e?.location == location, "\(String(describing: e))")
  }

  @Test("unknown component keys and strings are accepted (matched exactly later)")
  func unknownAccepted() throws {
    let json =
      #"{"schema":"kho-compat-manifest/1","subject":{"kind":"agent"},"components":{"foo":{"write":["foo-v3"]}}}"#
    let m = try CapabilityManifest.decode(Array(json.utf8))
    #expect(m.capability("foo").write == ["foo-v3"])
  }

  @Test("a handover manifest lists what was found, newest first, and the unread sub-nodes")
  func handover() {
    let c = HandoverContents(
      found: [
        .init(path: "/", compatible: "kho-v4"), .init(path: "/LUO", compatible: "luo-v4"),
        .init(path: "/LUO/sessions[0]/files[0]", compatible: "memfd-v1"),
        .init(path: "/LUO/sessions[0]/files[1]", compatible: "memfd-v2"),
        .init(path: "/LUO/sessions[1]/files[0]", compatible: "memfd-v1"),
        .init(path: "/LUO/sessions[1]/files[1]", compatible: "bar-v1"),
      ], unreadSubNodes: ["memblock"], name: "dump.elf")
    let m = CapabilityManifest.fromHandover(c)
    #expect(m.scope == .handover && m.subject.kind == .handover)
    #expect(m.capability(.memfd).write == ["memfd-v2", "memfd-v1"])
    #expect(m.capability(.memfd).multiWrite == true)
    #expect(m.capability(.kho).read == [])
    #expect(
      m.observations == [
        "/LUO/sessions[1]/files[1]: 'bar-v1' is not in the registry",
        "sub-node 'memblock' (memblock) present; its version needs physical memory to read",
      ])
  }

  @Test("policies: decode, defaults, and contradictions")
  func policies() throws {
    let p = try NegotiationPolicy.decode(
      Array(#"{"schema":"kho-compat-policy/1","optional":["pci"],"dual_write":["*"],"drop_cost":{"pci":"slow"}}"#.utf8))
    #expect(p.classify("pci") == .optional && p.classify(.luo) == .mandatory)
    #expect(p.allowsDualWrite(.memfd))
    #expect(p.dropCost["pci"] == "slow")
    #expect(try NegotiationPolicy.decode(p.jsonBytes()) == p)
    do {
      _ = try NegotiationPolicy.decode(
        Array(#"{"schema":"kho-compat-policy/1","mandatory":["pci"],"optional":["pci"]}"#.utf8))
      Issue.record("accepted")
    } catch { #expect(error.kind == .conflictingPolicy) }
    do {
      _ = try NegotiationPolicy.decode(Array(#"{"schema":"kho-compat-policy/1","default":"maybe"}"#.utf8))
      Issue.record("accepted")
    } catch { #expect(error.kind == .invalidJSON && error.location == "default") }
  }

  @Test("text rendering names registry status and unknown strings")
  func text() throws {
    let m = CapabilityManifest.fromVersionSection(["luo-v5", "kvm_vm_luo_v1", "foo-v3"], name: "vmlinux")
    let t = m.text()
    #expect(t.hasPrefix("kernel vmlinux (vmlinux .liveupdate_versions; scope liveupdate-versions)\n"))
    #expect(t.contains("  luo         read luo-v5  write luo-v5   [mainline, decoded]\n"))
    #expect(t.contains("kvm_vm_luo  read kvm_vm_luo_v1  write kvm_vm_luo_v1   [linux-mm, decoded]"))
    #expect(t.contains("[not in the registry]"))
  }
}

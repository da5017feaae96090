// SPDX-License-Identifier: Apache-2.0
import KHOCompat
import Testing

/// Hand-checked plans, including the cases the upstream discussion raised
/// (liveupdate-design.md §4.2): a transition kernel writing old and new
/// formats, an optional accelerator dropped at the cost of blackout time,
/// an unknown handler string, and profiles pinned fleet-wide.
@Suite("Negotiation")
struct NegotiationTests {
  typealias Cap = CapabilityManifest.Capability

  func manifest(
    _ name: String, scope: CapabilityManifest.Scope = .all, _ comps: [String: Cap],
    profiles: [String: [String]]? = nil
  ) -> CapabilityManifest {
    CapabilityManifest(subject: .init(kind: .kernel, name: name), scope: scope, components: comps, profiles: profiles)
  }

  func rw(_ v: String...) -> Cap { Cap(read: v, write: v) }
  func r(_ v: String...) -> Cap { Cap(read: v) }

  let neg = Negotiator()

  @Test("writes the newest version both sides know")
  func newestCommon() throws {
    let out = manifest("old", ["kho": rw("kho-v4"), "luo": Cap(write: ["luo-v4", "luo-v5"])])
    let inc = manifest("new", ["kho": r("kho-v4"), "luo": r("luo-v3", "luo-v4")])
    let plan = try neg.negotiate(outgoing: out, incoming: [inc])
    #expect(plan.entry(.luo)?.write == ["luo-v4"])
    #expect(plan.entry(.luo)?.reason == "newest version every incoming side reads (outgoing writes luo-v5, luo-v4)")
    #expect(plan.entry(.kho)?.write == ["kho-v4"])
    #expect(plan.entries.map(\.component) == [.kho, .luo])
    #expect(plan.canProceed)
    #expect(
      plan.text() == """
        negotiation: old → new
          kho           mandatory  write kho-v4
              newest version every incoming side reads (outgoing writes kho-v4)
          luo           mandatory  write luo-v4
              newest version every incoming side reads (outgoing writes luo-v5, luo-v4)
        result: can proceed

        """)
  }

  @Test("a version's requirements on other components are honoured (luo-v5 needs a kho-v4 root)")
  func requirements() throws {
    let out = manifest("a", ["kho": Cap(write: ["kho-v4", "kho-v3"]), "luo": Cap(write: ["luo-v5", "luo-v3"])])
    let ok = try neg.negotiate(
      outgoing: out, incoming: [manifest("b", ["kho": r("kho-v3"), "luo": r("luo-v5", "luo-v3")])])
    #expect(ok.entry(.kho)?.write == ["kho-v3"])
    #expect(ok.entry(.luo)?.write == ["luo-v3"])
    let blocked = try neg.negotiate(outgoing: out, incoming: [manifest("b", ["kho": r("kho-v3"), "luo": r("luo-v5")])])
    let e = try #require(blocked.entry(.luo))
    #expect(e.decision == .blocked)
    #expect(
      e.reason
        == "blocked: outgoing writes luo-v5, luo-v3; b reads luo-v5; luo-v5 needs kho-v4 or kho-v4;radix-v1 or kho-v4;radix-v1;vmalloc-v1, but kho will be kho-v3: KHO linked blocks came with kho-v4; older roots' kernels have no block reader (§2.1, §5)"
    )
    #expect(!blocked.canProceed)
  }

  @Test("transition: a newer kernel writes old and new formats; each successor picks the highest it understands")
  func dualWrite() throws {
    let out = manifest("n+1", ["memfd": Cap(write: ["memfd-v1", "memfd-v2"], multiWrite: true)])
    let rollback = manifest("n", ["memfd": r("memfd-v1")])
    let next = manifest("n+2", ["memfd": r("memfd-v2")])
    let allow = NegotiationPolicy(dualWrite: ["memfd"])
    let plan = try neg.negotiate(outgoing: out, incoming: [rollback, next], policy: allow)
    let e = try #require(plan.entry(.memfd))
    #expect(e.decision == .write)
    #expect(e.write == ["memfd-v2", "memfd-v1"])
    #expect(e.readerPicks == ["n": "memfd-v1", "n+2": "memfd-v2"])
    #expect(
      e.reason
        == "dual-write: no single version suits every incoming side; each picks the newest it understands (n reads memfd-v1, n+2 reads memfd-v2)"
    )

    let strict = try neg.negotiate(outgoing: out, incoming: [rollback, next])
    #expect(strict.entry(.memfd)?.decision == .blocked)
    #expect(
      strict.entry(.memfd)?.reason
        == "blocked: no single version is read by every incoming side (outgoing writes memfd-v2, memfd-v1; n can use memfd-v1; n+2 can use memfd-v2); writing memfd-v2 and memfd-v1 together would work, but the policy does not allow dual-write for memfd"
    )

    let single = manifest("n+1", ["memfd": Cap(write: ["memfd-v1", "memfd-v2"])])
    let cannot = try neg.negotiate(outgoing: single, incoming: [rollback, next], policy: allow)
    #expect(
      cannot.entry(.memfd)?.reason.hasSuffix(
        "dual-write is allowed but the outgoing side cannot write several versions of memfd at once") == true)

    // With one target that reads both, one version suffices even with dual-write allowed.
    let both = try neg.negotiate(
      outgoing: out, incoming: [manifest("x", ["memfd": r("memfd-v1", "memfd-v2")])], policy: allow)
    #expect(both.entry(.memfd)?.write == ["memfd-v2"])
  }

  @Test("an optional accelerator is dropped at the cost of blackout time; the update proceeds")
  func optionalAccelerator() throws {
    let out = manifest(
      "a",
      ["kho": rw("kho-v4"), "pci": Cap(write: ["pci-v2"]), "iommu-liveupdate": Cap(write: ["iommu-liveupdate-v1"])])
    let inc = manifest("b", ["kho": r("kho-v4"), "iommu-liveupdate": r("iommu-liveupdate-v1")])
    let policy = NegotiationPolicy(
      mandatory: ["iommu-liveupdate"], optional: ["pci"],
      dropCost: ["pci": "config space is re-read from the devices: longer blackout"])
    let plan = try neg.negotiate(outgoing: out, incoming: [inc], policy: policy)
    let pci = try #require(plan.entry("pci"))
    #expect(pci.decision == .dropped && pci.classification == .optional)
    #expect(
      pci.reason
        == "dropped: outgoing writes pci-v2; b reads no version of pci; cost of dropping it: config space is re-read from the devices: longer blackout"
    )
    #expect(plan.entry("iommu-liveupdate")?.write == ["iommu-liveupdate-v1"])
    #expect(plan.canProceed)
    #expect(plan.text().hasSuffix("result: can proceed without 1 optional component\n"))
    // The same component mandatory blocks.
    let strict = try neg.negotiate(outgoing: out, incoming: [inc])
    #expect(strict.entry("pci")?.decision == .blocked)
  }

  @Test("an unknown handler string: matched exactly, blocked when the incoming side does not list it")
  func unknownHandler() throws {
    let out = manifest("a", ["foo": Cap(write: ["foo-v3"])])
    let no = try neg.negotiate(outgoing: out, incoming: [manifest("b", ["memfd": r("memfd-v1")])])
    let e = try #require(no.entry("foo"))
    #expect(e.decision == .blocked)
    #expect(e.reason == "blocked: outgoing writes foo-v3; b reads no version of foo")
    #expect(e.notes == ["'foo-v3' is not in the registry; it is matched by exact string only"])
    let yes = try neg.negotiate(outgoing: out, incoming: [manifest("b", ["foo": r("foo-v3")])])
    #expect(yes.entry("foo")?.write == ["foo-v3"])
    #expect(yes.entry("foo")?.notes == ["'foo-v3' is not in the registry; it is matched by exact string only"])
  }

  @Test("profiles pinned fleet-wide restrict both sides")
  func profiles() throws {
    let out = manifest(
      "host", ["kho": rw("kho-v4"), "memfd": Cap(read: ["memfd-v1", "memfd-v2"], write: ["memfd-v2", "memfd-v1"])],
      profiles: ["current": ["kho-v4", "memfd-v2"], "previous": ["kho-v4", "memfd-v1"]])
    let inc = manifest("next", ["kho": r("kho-v4"), "memfd": r("memfd-v1", "memfd-v2")])
    #expect(try neg.negotiate(outgoing: out, incoming: [inc]).entry(.memfd)?.write == ["memfd-v2"])
    let prev = try neg.negotiate(outgoing: out, incoming: [inc], profile: "previous")
    #expect(prev.profile == "previous")
    #expect(prev.entry(.memfd)?.write == ["memfd-v1"])
    // The policy's profile applies when the CLI gives none.
    #expect(
      try neg.negotiate(outgoing: out, incoming: [inc], policy: NegotiationPolicy(profile: "previous")).entry(.memfd)?
        .write == ["memfd-v1"])
    // An incoming side that defines the profile is restricted too.
    let pinned = manifest(
      "next", ["kho": r("kho-v4"), "memfd": r("memfd-v1", "memfd-v2")], profiles: ["current": ["kho-v4", "memfd-v1"]])
    let clash = try neg.negotiate(outgoing: out, incoming: [pinned], profile: "current")
    #expect(clash.entry(.memfd)?.decision == .blocked)
    #expect(
      clash.entry(.memfd)?.reason
        == "blocked: outgoing writes memfd-v2; next reads memfd-v1, none of which the outgoing side writes in profile 'current'"
    )
    #expect(
      clash.entry(.memfd)?.notes == [
        "a captured handover could be converted memfd-v2 → memfd-v1 (when no memfd has seals set (memfd-v1 cannot store them)); a live kernel cannot"
      ])
    do {
      _ = try neg.negotiate(outgoing: out, incoming: [inc], profile: "fleet-2027")
      Issue.record("unknown profile accepted")
    } catch {
      #expect(error.kind == .unknownProfile)
      #expect(error.message == "the outgoing manifest defines no profile 'fleet-2027' (it has: current, previous)")
    }
  }

  @Test("a vmlinux catalogue does not cover the root: the choice is written but unverified")
  func unverified() throws {
    let out = manifest("a", ["kho": rw("kho-v4"), "luo": rw("luo-v5"), "memfd": rw("memfd-v1")])
    let inc = CapabilityManifest.fromVersionSection(["luo-v5", "memfd-v1"], name: "vmlinux-next")
    let plan = try neg.negotiate(outgoing: out, incoming: [inc])
    let kho = try #require(plan.entry(.kho))
    #expect(kho.decision == .write && !kho.verified)
    #expect(kho.reason == "no incoming manifest covers kho; writing the newest the outgoing side has")
    #expect(plan.entry(.luo)?.verified == true)
    #expect(plan.entry(.memfd)?.write == ["memfd-v1"])
    #expect(plan.text().contains("write kho-v4 (unverified)"))
  }

  @Test("v6.19 → v7.0: same luo-v1 string, but the FLB-aware reader panics without the luo-flb node")
  func flbPanic() throws {
    let releases = Dictionary(uniqueKeysWithValues: KernelRelease.known.map { ($0.name, $0) })
    let v619 = CapabilityManifest.fromRelease(try #require(releases["v6.19"]))
    let v70 = CapabilityManifest.fromRelease(try #require(releases["v7.0"]))
    let plan = try neg.negotiate(outgoing: v619, incoming: [v70])
    let luo = try #require(plan.entry(.luo))
    #expect(luo.decision == .blocked)
    #expect(
      luo.reason.contains("luo-v1 needs luo-flb-v1, but luo-flb is not written: a reader with FLB support panics"))
    #expect(plan.entry(.kho)?.write == ["kho-v1"])
    // The other way round works: the older reader ignores the node it does not know.
    #expect(try neg.negotiate(outgoing: v70, incoming: [v619]).entry(.luo)?.write == ["luo-v1"])
  }

  @Test("policy components the outgoing side lacks; determinism")
  func missingAndDeterminism() throws {
    let out = manifest("a", ["memfd": rw("memfd-v1"), "kho": rw("kho-v4")])
    let inc = manifest("b", ["memfd": r("memfd-v1"), "kho": r("kho-v4")])
    let plan = try neg.negotiate(
      outgoing: out, incoming: [inc], policy: NegotiationPolicy(mandatory: ["luo"], optional: ["pci"]))
    #expect(plan.entry(.luo)?.reason == "blocked: the outgoing side cannot write luo")
    #expect(plan.entry("pci")?.decision == .dropped)
    #expect(plan.entries.map(\.component.rawValue) == ["kho", "luo", "memfd", "pci"])
    let again = try neg.negotiate(
      outgoing: out, incoming: [inc], policy: NegotiationPolicy(mandatory: ["luo"], optional: ["pci"]))
    #expect(again.jsonBytes() == plan.jsonBytes())
    #expect(String(decoding: plan.jsonBytes(), as: UTF8.self).contains("\"can_proceed\" : false"))
    do { _ = try neg.negotiate(outgoing: out, incoming: []); Issue.record("accepted") } catch {
      #expect(error.kind == .empty)
    }
  }
}

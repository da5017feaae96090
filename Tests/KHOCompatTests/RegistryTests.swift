// SPDX-License-Identifier: Apache-2.0
import KHOCompat
import Testing

@Suite("Version registry")
struct RegistryTests {
  let r = VersionRegistry.standard

  @Test("every version the brief lists is registered under the right component")
  func coverage() {
    let expected: [(String, ComponentID)] = [
      ("kho-v1", .kho), ("kho-v2", .kho), ("kho-v3", .kho), ("kho-v4", .kho),
      ("kho-v4;radix-v1;vmalloc-v1", .kho), ("radix-v1", .memoryMap), ("bitmap-chunks-v1", .memoryMap),
      ("block-v1", .block), ("vmalloc-v1", .vmalloc), ("luo-v1", .luo), ("luo-v2", .luo), ("luo-v3", .luo),
      ("luo-v4", .luo), ("luo-v5", .luo), ("luo-v5;block-v1", .luo), ("luo-session-v1", .luoSession),
      ("luo-session-v2", .luoSession), ("luo-flb-v1", .luoFLB), ("memfd-v1", .memfd), ("memfd-v2", .memfd),
      ("memfd-v2;vmalloc-v1", .memfd), ("kexec-metadata-v1", .kexecMetadata), ("kho-xarray-v1", .khoXArray),
      ("kho-xarray-v2", .khoXArray), ("memblock-v1", .memblock), ("reserve-mem-v1", .reserveMem),
    ]
    for (name, c) in expected {
      #expect(r.version(named: name)?.component == c, "\(name)")
      #expect(r.version(named: name)?.scope == .decoded, "\(name)")
    }
  }

  @Test("stringless versions have no kernel string; the others' string is their name")
  func strings() {
    for n in ["bitmap-chunks-v1", "kexec-metadata-v1", "kho-xarray-v1"] {
      #expect(r.version(named: n)?.strings == [], "\(n)")
      #expect(r.version(forString: n) == nil)
    }
    #expect(r.version(forString: "luo-v5;block-v1")?.name == "luo-v5;block-v1")
    #expect(r.version(forString: "kho-v4")?.strings == ["kho-v4"])
  }

  @Test("nesting follows the reference")
  func nesting() {
    #expect(r.version(named: "luo-v5")?.nests == ["block-v1"])
    #expect(r.version(named: "memfd-v1")?.nests == ["vmalloc-v1"])
    #expect(r.version(named: "kho-v1")?.nests == ["bitmap-chunks-v1"])
    #expect(r.version(named: "kho-v4;radix-v1;vmalloc-v1")?.nests == ["radix-v1", "vmalloc-v1"])
    #expect(r.version(named: "memblock-v1")?.nests == ["reserve-mem-v1"])
    #expect(r.version(named: "radix-v1")?.impliedBy == ["kho-v2", "kho-v3", "kho-v4"])
    // Every nested or implied name is itself registered.
    for v in r.versions {
      for n in v.nests + v.impliedBy { #expect(r.version(named: n) != nil, "\(v.name) names \(n)") }
      for q in v.requires { for n in q.anyOf { #expect(r.version(named: n) != nil, "\(v.name) requires \(n)") } }
    }
  }

  @Test("opaque kernel strings are named, not garbage")
  func opaque() {
    for s in ["rxe-liveupdate-v1", "kho-test-v1", "liveupdate-test-flb-v0", "liveupdate-test-flb-v3"] {
      let id = r.identify(s)
      #expect(id.isKnown, "\(s)")
      #expect(id.scope == .opaque, "\(s)")
      #expect(CodecSupport.of(s) == .opaque)
    }
    #expect(r.identify("rxe-liveupdate-v1").component == "rxe")
    #expect(r.identify("liveupdate-test-flb-v3").pattern == "liveupdate-test-flb-v<i>")
    #expect(!r.identify("liveupdate-test-flb-vx").isKnown)
  }

  @Test("payload strings the toolkit decodes are decoded versions with a codec")
  func payloadStrings() {
    for s in [
      "kvm_vm_luo_v1", "kvm_vcpu_luo_v1", "guest_memfd_luo_v1", "hugetlb-v1", "huge-memfd-v1", "tmpfs-mnt-v1",
      "tmpfs-file-v1", "mshv_kho-v1", "hwpoison-v1", "pstore-kho-v1", "memfd", "luo-v4-kho-block-v1", "kho-v4;radix-v1",
      "pci-v1", "pci-v2", "pci", "vfio-pci-v1", "vfio-pci-v2", "iommu-v1", "iommu-liveupdate-v1", "iommu-liveupdate",
      "iommufd-v0", "iommufd-v1", "cpu_flb_v1", "cpu_fh_v1",
    ] {
      let id = r.identify(s)
      #expect(id.isKnown && id.scope == .decoded, "\(s)")
      #expect(CodecSupport.of(s).read == .available, "\(s)")
    }
    #expect(r.identify("kvm_vm_luo_v1").component == "kvm_vm_luo")
  }

  @Test("unknown strings and parts are reported")
  func unknown() {
    let foo = r.identify("foo-v3")
    #expect(!foo.isKnown && foo.component == "foo" && foo.unknownParts == ["foo-v3"])
    let luo9 = r.identify("luo-v9")
    #expect(luo9.component == .luo && !luo9.isKnown)
    let mixed = r.identify("kho-v4;radix-v2;vmalloc-v1")
    #expect(mixed.component == .kho)
    #expect(mixed.unknownParts == ["kho-v4;radix-v2;vmalloc-v1".split(separator: ";").map(String.init)[1]])
    let bad = r.identify("kho-v4;vmalloc-v1;radix-v1")
    #expect(bad.error?.kind == .subComponentOrder)
  }

  @Test("newest first: registry ordinals, unknown newer -vN after the known ones")
  func ordering() {
    #expect(
      r.newestFirst(["luo-v4", "luo-v5;block-v1", "luo-v1", "luo-v5"]) == [
        "luo-v5;block-v1", "luo-v5", "luo-v4", "luo-v1",
      ])
    #expect(r.newestFirst(["memfd-v1", "memfd-v3", "memfd-v2"]) == ["memfd-v3", "memfd-v2", "memfd-v1"])
    #expect(r.isOlder("kho-v4", than: "kho-v4;radix-v1;vmalloc-v1"))
    #expect(r.newestFirst(["foo-v2", "foo-v10", "foo-v1"]) == ["foo-v10", "foo-v2", "foo-v1"])
  }

  @Test("the codec-support table and the registry agree")
  func supportTable() {
    for v in r.versions where v.scope == .decoded {
      #expect(CodecSupport.table[v.name] != nil, "\(v.name) has no support entry")
    }
    for name in CodecSupport.table.keys { #expect(r.version(named: name)?.scope == .decoded, "\(name)") }
  }

  @Test("releases known to write a version, inferred where the reference says so")
  func releases() {
    #expect(r.releases(writing: "kho-v1").map(\.name) == ["v6.16", "v6.18", "v6.19", "v7.0"])
    #expect(r.releases(writing: "luo-flb-v1").map(\.name) == ["v7.0"])
    #expect(r.releases(writing: "luo-v5").map(\.name) == ["v7.2-rc1"])
    #expect(KernelRelease.known.filter { $0.isRelease }.allSatisfy { $0.inferred })
    for rel in KernelRelease.known {
      for (c, v) in rel.writes { #expect(r.version(named: v)?.component == c, "\(rel.name): \(v)") }
    }
  }

  @Test("conversion routes: shortest, with the union of conditions")
  func routes() {
    let down = ConversionRule.route(.luo, from: "luo-v5;block-v1", to: "luo-v3")
    #expect(down?.path == "luo-v5;block-v1 → luo-v5 → luo-v4 → luo-v3")
    #expect(down?.conditions == [.filesFitArray, .sessionsFitRegion])
    #expect(ConversionRule.route(.memfd, from: "memfd-v1", to: "memfd-v2;vmalloc-v1")?.conditions == [])
    #expect(ConversionRule.route(.memfd, from: "memfd-v2", to: "memfd-v1")?.conditions == [.memfdNoSeals])
    #expect(ConversionRule.route(.kho, from: "kho-v4", to: "kho-v1")?.conditions == [.allSubBlobsAreFDT])
    #expect(ConversionRule.route(.kho, from: "kho-v4", to: "kho-v4")?.steps.isEmpty == true)
    #expect(
      ConversionRule.route(.luo, from: "luo-v5", to: "luo-v3-kho-block-v1")?.path
        == "luo-v5 → luo-v4 → luo-v3-kho-block-v1")
    #expect(ConversionRule.route(.luo, from: "luo-v5", to: "luo-features")?.conditions == [])
    #expect(ConversionRule.route(.luo, from: "luo-v5", to: "luo-v9") == nil)
  }
}

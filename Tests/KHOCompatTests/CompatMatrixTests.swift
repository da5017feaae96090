// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCompat
import KHOCore
import Testing

@Suite("Compat matrix")
struct CompatMatrixTests {
  static let specs = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Specs")

  @Test("the committed Specs/compat-matrix.md and .json are what the generator writes now")
  func notStale() throws {
    let m = CompatMatrix.standard
    let md = try String(contentsOf: Self.specs.appendingPathComponent("compat-matrix.md"), encoding: .utf8)
    let json = try Data(contentsOf: Self.specs.appendingPathComponent("compat-matrix.json"))
    #expect(
      md == m.markdown(),
      "Specs/compat-matrix.md is stale: run `khodump compat matrix --format md > Specs/compat-matrix.md`")
    #expect(
      Array(json) == m.jsonBytes(),
      "Specs/compat-matrix.json is stale: run `khodump compat matrix --format json > Specs/compat-matrix.json`")
  }

  @Test("cells follow exact-match semantics and the conversion rules")
  func cells() throws {
    let m = CompatMatrix.standard
    #expect(m.cell(.luo, writer: "luo-v5", reader: "luo-v5")?.outcome == .native)
    let down = try #require(m.cell(.luo, writer: "luo-v5", reader: "luo-v4"))
    #expect(down.outcome == .converted && down.conditions == [.filesFitArray])
    #expect(down.kernel.hasPrefix("refuses: the incoming kernel panics"))
    #expect(m.cell(.memfd, writer: "memfd-v1", reader: "memfd-v2;vmalloc-v1")?.conditions == [])
    #expect(m.cell(.memfd, writer: "memfd-v2", reader: "memfd-v1")?.conditions == [.memfdNoSeals])
    #expect(m.cell(.memoryMap, writer: "radix-v1", reader: "bitmap-chunks-v1")?.outcome == .converted)
    #expect(m.cell(.khoXArray, writer: "kho-xarray-v2", reader: "kho-xarray-v1")?.conditions.count == 4)
    // Opaque versions are not in the matrix.
    #expect(
      m.components.allSatisfy { t in
        t.versions.allSatisfy { VersionRegistry.standard.version(named: $0)?.scope == .decoded }
      })
    #expect(m.components.contains { $0.component == .block })
    #expect(!m.components.contains { $0.component == "rxe" })
    #expect(m.cell("pci", writer: "pci-v2", reader: "pci")?.outcome == .refused)
    for t in m.components { #expect(t.cells.count == t.versions.count * t.versions.count) }
  }

  @Test("release pairs: who can hand over to whom")
  func releases() throws {
    let m = CompatMatrix.standard
    for r in m.releases { #expect(m.releaseCell(writer: r, reader: r)?.outcome != .fails, "\(r) → itself") }
    #expect(m.releaseCell(writer: "v6.16", reader: "v6.19")?.outcome == .works)
    let lost = try #require(m.releaseCell(writer: "v6.19", reader: "v6.18"))
    #expect(lost.outcome == .partial)
    #expect(lost.details.contains("luo: v6.18 has no reader for luo-v1; its state is not restored"))
    let flb = try #require(m.releaseCell(writer: "v6.19", reader: "v7.0"))
    #expect(flb.outcome == .fails && flb.inferred)
    #expect(flb.details.first?.hasPrefix("luo: luo-v1 without luo-flb-v1") == true)
    let root = try #require(m.releaseCell(writer: "v7.0", reader: "v7.2-rc1"))
    #expect(root.outcome == .fails)
    #expect(
      root.details == [
        "kho: kho-v1 ≠ kho-v4: the incoming kernel disables KHO revival: a normal boot, preserved memory becomes free, LUO sees no data (§9.1); a captured handover converts kho-v1 → kho-v2 → kho-v3 → kho-v4 (lossless)"
      ])
    #expect(m.releaseCell(writer: "v7.2-rc1", reader: "v7.2-rc1")?.outcome == .unknown)  // memfd version [unsure]
  }

  /// A probe for kexec-metadata written here from kho-abi.md §4.3, to
  /// exercise the probe path until the Metadata codec merges.
  struct MetadataProbe: ComponentCodecProbe {
    var component: ComponentID { .kexecMetadata }
    var versions: [String] { ["kexec-metadata-v1"] }
    var lie = false

    func canonicalContent() throws -> ProbeContent { ProbeContent(lines: ["release 7.2.0", "count 3"]) }

    func encodeCanonical(_ version: String) throws -> ProbeSample {
      var b = [UInt8](repeating: 0, count: 73)
      b[0] = 1
      for (i, c) in "7.2.0".utf8.enumerated() { b[4 + i] = c }
      b[69] = 3
      return ProbeSample(version: version, blob: Bytes(b))
    }

    func decode(_ sample: ProbeSample, as version: String) throws -> ProbeContent {
      guard let blob = sample.blob else { throw DecodeError(.missing, "no blob") }
      var r = ByteReader(blob, order: .little)
      guard try r.u32() == 1 else { throw DecodeError(.unknownVersion, "version") }
      let rel = try r.cString(fixedSize: 65)
      let count = try r.u32()
      return ProbeContent(lines: ["release \(rel)", "count \(lie ? count + 1 : count)"])
    }
  }

  @Test("a codec probe proves its cells; a disagreeing probe is reported")
  func probes() throws {
    let proven = CompatMatrix.generate(probes: [MetadataProbe()])
    #expect(CompatMatrix.generate(probes: []).cell(.luo, writer: "luo-v1", reader: "luo-v1")?.basis == .rule)
    let c = try #require(proven.cell(.kexecMetadata, writer: "kexec-metadata-v1", reader: "kexec-metadata-v1"))
    #expect(c.basis == .probe && c.outcome == .native && c.disagreement == nil)
    #expect(proven.markdown().contains("| `kexec-metadata-v1` | =ᵖ |"))
    // Other components stay rule-based.
    #expect(proven.cell(.luo, writer: "luo-v1", reader: "luo-v1")?.basis == .rule)

    let wrong = CompatMatrix.generate(probes: [MetadataProbe(lie: true)])
    let w = try #require(wrong.cell(.kexecMetadata, writer: "kexec-metadata-v1", reader: "kexec-metadata-v1"))
    #expect(w.outcome == .refused)
    #expect(w.disagreement == "rule says native, probe says refused: the reader accepted it but the content differs")
    #expect(wrong.markdown().contains("**probe disagrees**"))
  }

  @Test("the JSON form decodes back to the same matrix")
  func json() throws {
    let m = CompatMatrix.standard
    let back = try JSONDecoder().decode(CompatMatrix.self, from: Data(m.jsonBytes()))
    #expect(back == m)
  }

  /// Every cell of the committed matrix, by hand: `=` native, `→` converted
  /// always, `→?` converted when conditions hold, `✗` refused; `ᵖ` proven
  /// by a codec probe, no mark: from the rules.
  static let expected: [String: [String]] = [
    "block": ["=ᵖ"],
    "cpu-fh": ["="],
    "cpu-flb": ["="],
    "guest_memfd_luo": ["="],
    "huge-memfd": ["="],
    "hugetlb": ["="],
    "hwpoison": ["= ✗", "✗ ="],
    "iommu": ["= ✗ ✗", "✗ = ✗", "✗ ✗ ="],
    "iommufd": ["= ✗", "✗ ="],
    "kexec-metadata": ["=ᵖ"],
    "kho": [
      "=ᵖ →ᵖ →ᵖ →ᵖ →ᵖ →ᵖ",
      "→ᵖ =ᵖ →ᵖ →ᵖ →ᵖ →ᵖ",
      "→?ᵖ →?ᵖ =ᵖ →ᵖ →ᵖ →ᵖ",
      "→?ᵖ →?ᵖ →ᵖ =ᵖ →ᵖ →ᵖ",
      "→?ᵖ →?ᵖ →ᵖ →ᵖ =ᵖ →ᵖ",
      "→?ᵖ →?ᵖ →ᵖ →ᵖ →ᵖ =ᵖ",
    ],
    "kho-xarray": ["=ᵖ →ᵖ", "→?ᵖ =ᵖ"],
    "kvm_vcpu_luo": ["="],
    "kvm_vm_luo": ["="],
    // luo-v1, -v2, -v3, -v3-kho-block-v1, -v4, -v4-kho-block-v1, -v5, -v5;block-v1, luo-features.
    "luo": [
      "=ᵖ →ᵖ →ᵖ →ᵖ →ᵖ →ᵖ →ᵖ →ᵖ →ᵖ",
      "→ᵖ =ᵖ →ᵖ →ᵖ →ᵖ →ᵖ →ᵖ →ᵖ →ᵖ",
      "→ᵖ →ᵖ =ᵖ →ᵖ →ᵖ →ᵖ →ᵖ →ᵖ →ᵖ",
      "→?ᵖ →?ᵖ →?ᵖ =ᵖ →ᵖ →ᵖ →ᵖ →ᵖ →ᵖ",
      "→?ᵖ →?ᵖ →?ᵖ →ᵖ =ᵖ →ᵖ →ᵖ →ᵖ →ᵖ",
      "→?ᵖ →?ᵖ →?ᵖ →?ᵖ →?ᵖ =ᵖ →ᵖ →ᵖ →ᵖ",
      "→?ᵖ →?ᵖ →?ᵖ →?ᵖ →?ᵖ →ᵖ =ᵖ →ᵖ →ᵖ",
      "→?ᵖ →?ᵖ →?ᵖ →?ᵖ →?ᵖ →ᵖ →ᵖ =ᵖ →ᵖ",
      "→?ᵖ →?ᵖ →?ᵖ →?ᵖ →?ᵖ →ᵖ →ᵖ →ᵖ =ᵖ",
    ],
    "luo-flb": ["=ᵖ"],
    "luo-session": ["=ᵖ →ᵖ", "→?ᵖ =ᵖ"],
    "memblock": ["="],
    "memfd": ["=ᵖ →ᵖ →ᵖ →ᵖ", "→?ᵖ =ᵖ →ᵖ →ᵖ", "→?ᵖ →ᵖ =ᵖ →ᵖ", "→?ᵖ →ᵖ →ᵖ =ᵖ"],
    "memory-map": ["=ᵖ →ᵖ", "→ᵖ =ᵖ"],
    "mshv": ["="],
    "pci": ["= ✗ ✗", "✗ = ✗", "✗ ✗ ="],
    "pstore-kho": ["= ✗", "✗ ="],
    "reserve-mem": ["="],
    "tmpfs-file": ["="],
    "tmpfs-mnt": ["="],
    "vfio-pci": ["= ✗", "✗ ="],
    "vmalloc": ["=ᵖ"],
  ]

  static func mark(_ c: CompatMatrix.Cell) -> String {
    var m: String
    switch c.outcome {
    case .native: m = "="
    case .converted: m = c.conditions.isEmpty ? "→" : "→?"
    case .refused: m = "✗"
    }
    if c.basis == .probe { m += "ᵖ" }
    return m
  }

  @Test("every cell of the committed compat-matrix.json, by hand")
  func committedCells() throws {
    let json = try Data(contentsOf: Self.specs.appendingPathComponent("compat-matrix.json"))
    let m = try JSONDecoder().decode(CompatMatrix.self, from: json)
    #expect(Set(m.components.map(\.component.rawValue)) == Set(Self.expected.keys))
    for t in m.components {
      let rows = t.versions.map { w in
        t.versions.compactMap { r in t.cells.first { $0.writer == w && $0.reader == r } }.map(Self.mark).joined(
          separator: " ")
      }
      #expect(rows == Self.expected[t.component.rawValue], "\(t.component)")
      for c in t.cells {
        #expect(c.disagreement == nil, "\(t.component) \(c.writer) → \(c.reader): \(c.disagreement ?? "")")
        // Conditions are the rules' route conditions.
        #expect(c.conditions == (ConversionRule.route(t.component, from: c.writer, to: c.reader)?.conditions ?? []))
        if c.basis == .probe {
          #expect(!c.evidence.isEmpty)
          if c.writer != c.reader {
            // The reader of the other version refused, as the kernel does.
            #expect(c.evidence.first?.contains("reader refuses") == true, "\(c.writer) → \(c.reader)")
            #expect(c.evidence.contains { $0.hasPrefix("converted ") && $0.hasSuffix("content equal") })
          }
        }
      }
    }
  }

  @Test("every conditional cell that a probe proves has a variant refused for each of its conditions")
  func conditionsProven() throws {
    let m = CompatMatrix.standard
    for t in m.components where t.component != .luoSession {
      for c in t.cells where !c.conditions.isEmpty && c.basis == .probe {
        let refusals = c.evidence.filter { $0.hasPrefix("variant ") && $0.contains("refused, lossy") }
        for cond in c.conditions {
          #expect(
            refusals.contains { $0.contains(cond.explanation) }, "\(t.component) \(c.writer) → \(c.reader): \(cond)")
        }
      }
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
extension CompatMatrix {
  /// Builds the matrix from the registry's rules, proving cells with `probes`.
  ///
  /// Rules: the same version is read natively; any other version is
  /// refused by the kernel (exact string match, kho-abi.md §9.1) and
  /// readable after conversion when the rules have a route (lossless, or
  /// lossless when the route's conditions hold); otherwise refused. A cell
  /// whose writer and reader a probe covers is then proven by running the
  /// codecs (``ComponentCodecProbe``); the probe's outcome wins and any
  /// disagreement with the rule is recorded. By default every component
  /// with codecs in the toolkit is probed (``standardProbes``).
  public static func generate(
    registry: VersionRegistry = .standard, rules: [ConversionRule] = ConversionRule.standard,
    probes: [any ComponentCodecProbe] = standardProbes
  ) -> CompatMatrix {
    var tables: [ComponentTable] = []
    for c in registry.components {
      let versions = registry.versions(of: c).filter { $0.scope == .decoded }.map(\.name)
      guard !versions.isEmpty else { continue }
      let probe = probes.first { $0.component == c }
      let runner = probe.map { ProbeRunner($0) }
      var cells: [Cell] = []
      for w in versions {
        for r in versions {
          var cell = ruleCell(c, writer: w, reader: r, registry: registry, rules: rules)
          if let probe, let runner, probe.versions.contains(w), probe.versions.contains(r) {
            cell = runner.prove(cell)
          }
          cells.append(cell)
        }
      }
      var table = ComponentTable(component: c, versions: versions, cells: cells)
      if let probe, cells.contains(where: { $0.basis == .probe }) { table.probe = probe.corpusDescription }
      if cells.contains(where: { $0.basis == .rule }) {
        table.ruleBasis =
          ruleBasis[c]
          ?? (probe == nil ? "no codec probe covers this component" : "the probe does not cover every version")
      }
      tables.append(table)
    }
    let releases = KernelRelease.known
    var rc: [ReleaseCell] = []
    for w in releases {
      for r in releases { rc.append(releaseCell(writer: w, reader: r, registry: registry, rules: rules)) }
    }
    return CompatMatrix(components: tables, releases: releases.map(\.name), releaseCells: rc)
  }

  /// The matrix with the standard probes, computed once per process.
  public static let standard: CompatMatrix = generate()

  static func ruleCell(
    _ c: ComponentID, writer w: String, reader r: String, registry: VersionRegistry, rules: [ConversionRule]
  ) -> Cell {
    if w == r {
      return Cell(
        writer: w, reader: r, outcome: .native, conditions: [], route: nil, kernel: "reads it", basis: .rule,
        disagreement: nil)
    }
    let kernel = "refuses: " + (registry.version(named: r)?.onMismatch ?? "exact match fails")
    guard let route = ConversionRule.route(c, from: w, to: r, rules: rules) else {
      return Cell(
        writer: w, reader: r, outcome: .refused, conditions: [], route: nil, kernel: kernel, basis: .rule,
        disagreement: nil)
    }
    return Cell(
      writer: w, reader: r, outcome: .converted, conditions: route.conditions, route: route.path, kernel: kernel,
      basis: .rule, disagreement: nil)
  }

  static func releaseCell(
    writer w: KernelRelease, reader r: KernelRelease, registry: VersionRegistry, rules: [ConversionRule]
  ) -> ReleaseCell {
    var outcome = ReleaseOutcome.works
    var details: [String] = []
    func worse(_ o: ReleaseOutcome) { if outcome < o { outcome = o } }
    let comps = Set(w.writes.keys).union(w.unknown.keys).sorted()
    let rootMismatch = w.writes[.kho] != nil && w.writes[.kho] != r.writes[.kho]
    for c in comps {
      let role = registry.versions(of: c).first?.role
      if role == .nested { continue }  // checked through the parent's string
      if rootMismatch, c != .kho { continue }  // nothing below the root is read
      if let note = w.unknown[c] {
        worse(.unknown)
        details.append("\(c): \(w.name) writes \(note)")
        continue
      }
      guard let wv = w.writes[c] else { continue }
      if let note = r.unknown[c] {
        worse(.unknown)
        details.append("\(c): \(r.name) reads \(note)")
        continue
      }
      guard let rv = r.writes[c] else {
        worse(.partial)
        details.append("\(c): \(r.name) has no reader for \(wv); its state is not restored")
        continue
      }
      if wv == rv {
        // Reader-side requirements (luo-v1 with FLB support needs the luo-flb node).
        for req in registry.version(named: wv)?.requires ?? [] {
          guard let cond = req.whenReaderReads, r.writes.values.contains(cond) else { continue }
          if let have = w.writes[req.component], req.anyOf.contains(have) { continue }
          worse(.fails)
          details.append("\(c): \(wv) without \(req.anyOf.joined(separator: "/")): \(req.reason)")
        }
        continue
      }
      worse(.fails)
      var line = "\(c): \(wv) ≠ \(rv): " + (registry.version(named: rv)?.onMismatch ?? "refused")
      if let route = ConversionRule.route(c, from: wv, to: rv, rules: rules) {
        line += "; a captured handover converts \(route.path)"
        line +=
          route.conditions.isEmpty
          ? " (lossless)" : " (when " + route.conditions.map(\.rawValue).joined(separator: ", ") + ")"
      }
      details.append(line)
    }
    return ReleaseCell(
      writer: w.name, reader: r.name, outcome: outcome, inferred: w.inferred || r.inferred, details: details)
  }
}

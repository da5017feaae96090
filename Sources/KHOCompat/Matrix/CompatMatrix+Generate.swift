extension CompatMatrix {
  /// Builds the matrix from the registry's rules, proving cells with `probes` where given.
  ///
  /// Rules: the same version is read natively; any other version is
  /// refused by the kernel (exact string match, kho-abi.md §9.1) and
  /// readable after conversion when the rules have a route (lossless, or
  /// lossless when the route's conditions hold); otherwise refused.
  public static func generate(
    registry: VersionRegistry = .standard, rules: [ConversionRule] = ConversionRule.standard,
    probes: [any ComponentCodecProbe] = []
  ) -> CompatMatrix {
    var tables: [ComponentTable] = []
    for c in registry.components {
      let versions = registry.versions(of: c).filter { $0.scope == .decoded }.map(\.name)
      guard !versions.isEmpty else { continue }
      let probe = probes.first { $0.component == c }
      var cells: [Cell] = []
      for w in versions {
        for r in versions {
          var cell = ruleCell(c, writer: w, reader: r, registry: registry, rules: rules)
          if let probe, probe.versions.contains(w), probe.versions.contains(r) {
            cell = prove(cell, probe: probe)
          }
          cells.append(cell)
        }
      }
      tables.append(ComponentTable(component: c, versions: versions, cells: cells))
    }
    let releases = KernelRelease.known
    var rc: [ReleaseCell] = []
    for w in releases {
      for r in releases { rc.append(releaseCell(writer: w, reader: r, registry: registry, rules: rules)) }
    }
    return CompatMatrix(components: tables, releases: releases.map(\.name), releaseCells: rc)
  }

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

  /// Runs `probe` for one cell; the probe's outcome wins, a disagreement is recorded.
  static func prove(_ rule: Cell, probe: any ComponentCodecProbe) -> Cell {
    var cell = rule
    cell.basis = .probe
    let proven: Outcome
    let detail: String
    do {
      let canonical = try probe.canonicalContent()
      let sample = try probe.encodeCanonical(rule.writer)
      if let got = try? probe.decode(sample, as: rule.reader) {
        proven = got == canonical ? .native : .refused
        detail = got == canonical ? "the reader accepted it with equal content" : "the reader accepted it but the content differs"
      } else if let converted = try probe.convert(sample, to: rule.reader) {
        let got = try probe.decode(converted, as: rule.reader)
        proven = got == canonical ? .converted : .refused
        detail = got == canonical ? "converted, content equal" : "converted, but the content differs"
      } else if rule.outcome == .converted {
        // No converter yet: the refusal is proven, the conversion is still the rule's.
        cell.basis = .rule
        return cell
      } else {
        proven = .refused
        detail = "the reader refused it"
      }
    } catch {
      proven = .refused
      detail = "the probe failed: \(error)"
    }
    if proven != rule.outcome {
      cell.disagreement = "rule says \(rule.outcome.rawValue), probe says \(proven.rawValue): \(detail)"
      cell.outcome = proven
    }
    return cell
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
        line += route.conditions.isEmpty ? " (lossless)" : " (when " + route.conditions.map(\.rawValue).joined(separator: ", ") + ")"
      }
      details.append(line)
    }
    return ReleaseCell(
      writer: w.name, reader: r.name, outcome: outcome, inferred: w.inferred || r.inferred, details: details)
  }
}

// SPDX-License-Identifier: Apache-2.0
/// Chooses, per component, the version an outgoing side should write so its incoming side(s) can read it.
///
/// The rules (Specs/compat-manifest.md, "Negotiation"):
///
/// 1. Components: everything the outgoing side writes, plus everything the
///    policy names. Each is mandatory or optional by the policy.
/// 2. Candidates: the outgoing side's write versions, restricted to the
///    profile when one is in force (the outgoing manifest must define it; an
///    incoming manifest that defines it is restricted too).
/// 3. A candidate is usable for an incoming side when that side reads it
///    (exact string equality, as the kernel checks, kho-abi.md §9.1) and
///    every ``Requirement`` of the version holds against the versions
///    already chosen for other components (components are decided in
///    dependency order: `kho` before `luo`).
/// 4. Write the newest candidate usable by every incoming side. Failing
///    that, when the policy allows dual-write for the component and the
///    outgoing side can write several versions at once, write for each
///    incoming side the newest version it can use (JG's transition case:
///    each successor picks the highest it understands).
/// 5. Otherwise an optional component is dropped and a mandatory one
///    blocks the update, with the reason.
///
/// An incoming manifest that does not cover a component (a vmlinux
/// section lists only LUO and file handlers) cannot veto it: the newest
/// candidate is written and marked unverified.
public struct Negotiator: Sendable {
  public var registry: VersionRegistry
  public var rules: [ConversionRule]

  public init(registry: VersionRegistry = .standard, rules: [ConversionRule] = ConversionRule.standard) {
    self.registry = registry
    self.rules = rules
  }

  /// Negotiates `outgoing` against one or more `incoming` sides under `policy`.
  ///
  /// - Parameters:
  ///   - outgoing: what the running kernel can write.
  ///   - incoming: what each next kernel can read.
  ///   - policy: what may be given up to find a common version.
  ///   - profile: overrides `policy.profile`.
  /// - Throws: ``CompatError`` `.unknownProfile` when the outgoing manifest
  ///   does not define the profile; `.empty` when `incoming` is empty.
  public func negotiate(
    outgoing: CapabilityManifest, incoming: [CapabilityManifest], policy: NegotiationPolicy = .strict,
    profile: String? = nil
  ) throws(CompatError) -> NegotiationPlan {
    guard !incoming.isEmpty else { throw CompatError(.empty, "no incoming manifest to negotiate against") }
    let profile = profile ?? policy.profile
    var outProfile: Set<String>?
    if let profile {
      guard let p = outgoing.profile(profile) else {
        let known = (outgoing.profiles?.keys.sorted() ?? []).joined(separator: ", ")
        throw CompatError(
          .unknownProfile,
          "the outgoing manifest defines no profile '\(profile)'" + (known.isEmpty ? "" : " (it has: \(known))"),
          location: "profile")
      }
      outProfile = p
    }
    let labels = Self.labels(incoming)
    var set = Set(outgoing.components.filter { !$0.value.write.isEmpty }.keys.map { ComponentID($0) })
    for c in policy.mandatory + policy.optional { set.insert(ComponentID(c)) }
    let order = dependencyOrder(Array(set))

    var chosen: [ComponentID: [String?]] = [:]  // per incoming side, the version it will read
    var entries: [NegotiationPlan.Entry] = []
    for c in order {
      let e = decide(
        c, outgoing: outgoing, incoming: incoming, labels: labels, policy: policy, profile: profile,
        outProfile: outProfile, chosen: chosen)
      entries.append(e)
      chosen[c] = labels.map { e.decision == NegotiationPlan.Decision.write ? e.readerPicks[$0] : nil }
    }
    entries.sort { $0.component < $1.component }
    return NegotiationPlan(
      outgoing: outgoing.subject.name ?? "outgoing", incoming: labels, profile: profile, entries: entries)
  }

  static func labels(_ incoming: [CapabilityManifest]) -> [String] {
    var out: [String] = []
    for (i, m) in incoming.enumerated() {
      var l = m.subject.name ?? (incoming.count == 1 ? "incoming" : "incoming[\(i)]")
      if out.contains(l) { l += "[\(i)]" }
      out.append(l)
    }
    return out
  }

  /// Components sorted so every component comes after those its versions require.
  func dependencyOrder(_ components: [ComponentID]) -> [ComponentID] {
    let all = Set(components)
    var deps: [ComponentID: Set<ComponentID>] = [:]
    for c in all {
      deps[c] = Set(registry.versions(of: c).flatMap { $0.requires.map(\.component) }).intersection(all).subtracting([c]
      )
    }
    var done: [ComponentID] = []
    var left = all
    while !left.isEmpty {
      let ready = left.filter { (deps[$0] ?? []).isSubset(of: Set(done)) }.sorted()
      // A cycle cannot come from the registry; fall back to name order if one appears.
      let take = ready.isEmpty ? left.sorted() : ready
      done += take
      left.subtract(take)
    }
    return done
  }

  enum RequirementCheck {
    case satisfied
    case violated(String)
    case unverified(String)
  }

  func check(
    _ version: String, target t: Int, incoming: CapabilityManifest, outgoing: CapabilityManifest,
    chosen: [ComponentID: [String?]]
  ) -> RequirementCheck {
    guard let v = registry.version(named: version) ?? registry.version(forString: version) else { return .satisfied }
    var unverified: [String] = []
    for req in v.requires {
      if let cond = req.whenReaderReads, !incoming.capability(registry.identify(cond).component).read.contains(cond) {
        continue
      }
      let options = req.anyOf.joined(separator: " or ")
      if let picks = chosen[req.component] {
        if let pick = picks[t], req.anyOf.contains(pick) { continue }
        let got = picks[t].map { "\(req.component) will be \($0)" } ?? "\(req.component) is not written"
        return .violated("\(version) needs \(options), but \(got): \(req.reason)")
      }
      let advertised =
        !outgoing.capability(req.component).write.isEmpty || !incoming.capability(req.component).read.isEmpty
      if req.whenReaderReads != nil || advertised {
        return .violated("\(version) needs \(options), but \(req.component) is not written: \(req.reason)")
      }
      unverified.append("\(version) needs \(options); neither manifest lists \(req.component), so this is unchecked")
    }
    return unverified.isEmpty ? .satisfied : .unverified(unverified.joined(separator: "; "))
  }

  func decide(
    _ c: ComponentID, outgoing: CapabilityManifest, incoming: [CapabilityManifest], labels: [String],
    policy: NegotiationPolicy, profile: String?, outProfile: Set<String>?, chosen: [ComponentID: [String?]]
  ) -> NegotiationPlan.Entry {
    let cls = policy.classify(c)
    var notes: [String] = []
    let writable = registry.newestFirst(outgoing.capability(c).write)
    var cands = writable
    if let outProfile { cands = cands.filter { outProfile.contains($0) } }
    for s in cands where !registry.identify(s).isKnown {
      notes.append("'\(s)' is not in the registry; it is matched by exact string only")
    }
    func refuse(_ why: String) -> NegotiationPlan.Entry {
      var reason = why
      if cls == .optional {
        reason = "dropped: " + why
        if let cost = policy.dropCost[c.rawValue] {
          reason += "; cost of dropping it: \(cost)"
        } else {
          reason += "; the update proceeds without it (its state is not handed over)"
        }
      } else {
        reason = "blocked: " + why
      }
      return .init(
        component: c, classification: cls, decision: cls == .optional ? .dropped : .blocked, write: [],
        readerPicks: [:], verified: true, reason: reason, notes: notes)
    }
    guard !writable.isEmpty else { return refuse("the outgoing side cannot write \(c)") }
    guard !cands.isEmpty else {
      return refuse(
        "profile '\(profile ?? "")' of the outgoing side names no version of \(c) (it writes \(writable.joined(separator: ", ")))"
      )
    }

    // Per incoming side: which candidates it can use, and why the others not.
    var usable: [[String]?] = []  // nil: the side does not cover the component
    var why: [String] = []
    for (t, m) in incoming.enumerated() {
      guard m.covers(c, registry: registry) else {
        usable.append(nil)
        notes.append(
          "\(labels[t]) does not cover \(c) (manifest scope \(m.scope.rawValue)); the choice is unverified for it")
        continue
      }
      var reads = m.capability(c).read
      if let profile, let p = m.profile(profile) { reads = reads.filter { p.contains($0) } }
      var ok: [String] = []
      var rejected: [String] = []
      for s in cands where reads.contains(s) {
        switch check(s, target: t, incoming: m, outgoing: outgoing, chosen: chosen) {
        case .satisfied: ok.append(s)
        case .unverified(let n): ok.append(s); if !notes.contains(n) { notes.append(n) }
        case .violated(let r): rejected.append(r)
        }
      }
      usable.append(ok)
      if ok.isEmpty {
        var w =
          reads.isEmpty
          ? "\(labels[t]) reads no version of \(c)"
          : "\(labels[t]) reads \(registry.newestFirst(reads).joined(separator: ", "))"
        if !rejected.isEmpty {
          w += "; " + rejected.joined(separator: "; ")
        } else if !reads.isEmpty {
          w += ", none of which the outgoing side writes" + (profile.map { " in profile '\($0)'" } ?? "")
        }
        if let hint = conversionHint(c, from: cands, to: reads) { notes.append(hint) }
        why.append(w)
      }
    }

    let known = usable.compactMap { $0 }
    let verified = !usable.contains { $0 == nil }
    func picks(for written: [String]) -> [String: String] {
      var p: [String: String] = [:]
      for (t, u) in usable.enumerated() {
        if let u {
          if let best = written.first(where: { u.contains($0) }) { p[labels[t]] = best }
        } else if let first = written.first {
          p[labels[t]] = first
        }
      }
      return p
    }
    let outText = "outgoing writes \(cands.joined(separator: ", "))"
    if !why.isEmpty {
      return refuse(outText + "; " + why.joined(separator: "; "))
    }
    let common = cands.filter { s in known.allSatisfy { $0.contains(s) } }
    if let best = common.first {
      var reason =
        known.isEmpty
        ? "no incoming manifest covers \(c); writing the newest the outgoing side has"
        : "newest version every incoming side reads (\(outText))"
      if known.count < usable.count, !known.isEmpty { reason += "; unverified for sides that do not cover it" }
      return .init(
        component: c, classification: cls, decision: .write, write: [best], readerPicks: picks(for: [best]),
        verified: verified, reason: reason, notes: notes)
    }
    // No single version: dual-write if allowed.
    let perSide = known.compactMap(\.first)
    let union = registry.newestFirst(Array(Set(perSide)))
    let canMulti = outgoing.capability(c).multiWrite == true
    if policy.allowsDualWrite(c), canMulti {
      let p = picks(for: union)
      let detail = p.keys.sorted().map { "\($0) reads \(p[$0] ?? "")" }.joined(separator: ", ")
      return .init(
        component: c, classification: cls, decision: .write, write: union, readerPicks: p, verified: verified,
        reason:
          "dual-write: no single version suits every incoming side; each picks the newest it understands (\(detail))",
        notes: notes)
    }
    var w = "no single version is read by every incoming side (\(outText); "
    w +=
      zip(labels, usable).compactMap { l, u in u.map { "\(l) can use \($0.joined(separator: ", "))" } }
      .joined(separator: "; ") + ")"
    if !policy.allowsDualWrite(c) {
      w +=
        "; writing \(union.joined(separator: " and ")) together would work, but the policy does not allow dual-write for \(c)"
    } else {
      w += "; dual-write is allowed but the outgoing side cannot write several versions of \(c) at once"
    }
    return refuse(w)
  }

  /// "the toolkit can convert X to Y (lossless | when …)" for the first pair that has a route.
  func conversionHint(_ c: ComponentID, from: [String], to: [String]) -> String? {
    for a in from {
      for b in registry.newestFirst(to) where a != b {
        guard let r = ConversionRule.route(c, from: a, to: b, rules: rules) else { continue }
        let cond =
          r.conditions.isEmpty
          ? "lossless" : "when " + r.conditions.map(\.explanation).joined(separator: "; ")
        return "a captured handover could be converted \(r.path) (\(cond)); a live kernel cannot"
      }
    }
    return nil
  }
}

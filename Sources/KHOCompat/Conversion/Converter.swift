// SPDX-License-Identifier: Apache-2.0
/// Converts a decoded handover to target versions where that is lossless, refusing with exact reasons otherwise.
///
///     let c = Converter(transcoders: HandoverTranscoders.standard)
///     let plan = try c.plan(model, targets: [.luo: "luo-v4", .memfd: "memfd-v1"])
///     let converted = try c.convert(model, targets: ...)
///     // or: lossy (memfd): /LUO/sessions[0]/files[2].seals: seals 0x5 …
///
/// The converter runs every step's transcoder on a copy (transcoders keep
/// what the target cannot say), then checks every condition of every route
/// on the result and reports all violations at once, so a refusal lists each
/// session, file and field that stands in the way. Conditions are checked on
/// the result because a parent's condition depends on what its children
/// become: a kho-v2 root can link a LUO blob only once LUO is an FDT again.
/// Finally the registry's requirements between components are checked
/// (luo-v4 and later need a kho-v4 root).
public struct Converter<Subject: ConversionSubject> {
  public var registry: VersionRegistry
  public var rules: [ConversionRule]
  /// Registered re-encoders, found by their rule's (component, from, to).
  public var transcoders: [any ComponentTranscoder<Subject>]

  public init(
    registry: VersionRegistry = .standard, rules: [ConversionRule] = ConversionRule.standard,
    transcoders: [any ComponentTranscoder<Subject>] = []
  ) {
    self.registry = registry
    self.rules = rules
    self.transcoders = transcoders
  }

  /// The routes from `subject`'s versions to `targets`, with every condition checked.
  ///
  /// - Throws: ``ConversionError`` `.badTarget`, `.noRoute`,
  ///   `.notImplemented`, `.lossy` (with all violations of all components),
  ///   `.unsatisfiedRequirement`.
  public func plan(_ subject: Subject, targets: [ComponentID: String]) throws(ConversionError) -> ConversionPlan {
    try run(subject, targets: targets).plan
  }

  /// Converts `subject` to `targets` (see ``plan(_:targets:)``).
  public func convert(_ subject: Subject, targets: [ComponentID: String]) throws(ConversionError) -> Subject {
    try run(subject, targets: targets).result
  }

  /// Plans and converts in one go.
  public func run(_ subject: Subject, targets: [ComponentID: String]) throws(ConversionError)
    -> (plan: ConversionPlan, result: Subject)
  {
    var steps: [ConversionPlan.Step] = []
    for (c, target) in targets.sorted(by: { $0.key < $1.key }) {
      guard let tv = registry.version(named: target), tv.component == c else {
        throw ConversionError(.badTarget, "'\(target)' is not a registered version of \(c)", component: c)
      }
      guard let current = subject.componentVersions[c] else {
        throw ConversionError(.badTarget, "the handover has no \(c) to convert", component: c)
      }
      guard let route = ConversionRule.route(c, from: current, to: target, rules: rules) else {
        throw ConversionError(.noRoute, "no lossless conversion from \(current) to \(target)", component: c)
      }
      if !route.steps.isEmpty { steps.append(.init(component: c, route: route)) }
    }
    steps.sort { (rank($0.component), $0.component) < (rank($1.component), $1.component) }
    for s in steps {
      for r in s.route.steps where transcoder(for: r) == nil {
        throw ConversionError(
          .notImplemented, "no transcoder for \(r.from) → \(r.to) is registered yet", component: s.component)
      }
    }
    var result = subject
    for step in steps {
      for r in step.route.steps {
        guard let t = transcoder(for: r) else {
          throw ConversionError(.notImplemented, "no transcoder for \(r.from) → \(r.to)", component: step.component)
        }
        result = try t.transcode(result)
      }
    }
    var violations: [ConversionViolation] = []
    var lossyComponents: [ComponentID] = []
    for step in steps {
      let v = step.route.conditions.flatMap { result.violations(of: $0) }
      if !v.isEmpty {
        violations += v
        lossyComponents.append(step.component)
      }
    }
    if !violations.isEmpty {
      throw ConversionError(
        .lossy,
        "the target versions cannot express \(violations.count) thing\(violations.count == 1 ? "" : "s") in this handover",
        component: lossyComponents.count == 1 ? lossyComponents[0] : nil, violations: violations)
    }
    try checkRequirements(before: subject.componentVersions, after: result.componentVersions)
    let before = Dictionary(uniqueKeysWithValues: subject.componentVersions.map { ($0.key.rawValue, $0.value) })
    let after = Dictionary(uniqueKeysWithValues: result.componentVersions.map { ($0.key.rawValue, $0.value) })
    return (ConversionPlan(steps: steps, before: before, after: after), result)
  }

  /// Refuses a result in which a changed component's version needs another
  /// component's version that the result does not have.
  func checkRequirements(before: [ComponentID: String], after: [ComponentID: String]) throws(ConversionError) {
    let changed = Set(after.filter { before[$0.key] != $0.value }.map(\.key))
    guard !changed.isEmpty else { return }
    for (c, v) in after.sorted(by: { $0.key < $1.key }) {
      for req in registry.version(named: v)?.requires ?? [] where req.whenReaderReads == nil {
        guard changed.contains(c) || changed.contains(req.component) else { continue }
        // A subject that does not hold the other component cannot be judged.
        guard let have = after[req.component], !req.anyOf.contains(have) else { continue }
        throw ConversionError(
          .unsatisfiedRequirement,
          "\(v) needs \(req.component) \(req.anyOf.joined(separator: " or ")) but the result would have \(have): \(req.reason)",
          component: c)
      }
    }
  }

  /// Children before parents: a parent's conditions depend on its children's versions.
  func rank(_ c: ComponentID) -> Int {
    switch registry.versions(of: c).first?.role {
    case .root: 3
    case .subBlob: 2
    case .subNode: 1
    default: 0
    }
  }

  func transcoder(for r: ConversionRule) -> (any ComponentTranscoder<Subject>)? {
    transcoders.first { $0.rule.component == r.component && $0.rule.from == r.from && $0.rule.to == r.to }
  }
}

/// A place in a decoded handover where a lossy conversion would lose something.
public struct ConversionViolation: Hashable, Sendable, Codable, CustomStringConvertible {
  /// The condition that does not hold.
  public var condition: ConversionCondition
  /// The object: `/LUO/sessions[3]/files[7]`.
  public var path: String
  /// The field, when one: `seals`.
  public var field: String?
  /// What is there that the target cannot say: `seals 0x5 (SEAL|GROW)`.
  public var detail: String

  public init(condition: ConversionCondition, path: String, field: String? = nil, detail: String) {
    self.condition = condition
    self.path = path
    self.field = field
    self.detail = detail
  }

  public var description: String {
    "\(path)\(field.map { "." + $0 } ?? ""): \(detail) (\(condition.explanation))"
  }
}

/// A decoded handover, as the converter sees it.
///
/// The inspector's handover model conforms when the codecs merge: it names
/// the version of each component it holds and answers, for each condition
/// a lossy conversion needs, where the data violates it.
public protocol ConversionSubject {
  /// The version each component is in now (registry names).
  var componentVersions: [ComponentID: String] { get }
  /// Every place where `condition` does not hold (empty: it holds).
  func violations(of condition: ConversionCondition) -> [ConversionViolation]
}

/// Re-encodes one component from one version to the next; one per ``ConversionRule``.
public protocol ComponentTranscoder<Subject> {
  associatedtype Subject: ConversionSubject
  /// The rule this transcoder implements.
  var rule: ConversionRule { get }
  /// Rewrites `subject`'s component from `rule.from` to `rule.to`.
  ///
  /// Called only after the converter checked the rule's conditions.
  func transcode(_ subject: Subject) throws(ConversionError) -> Subject
}

/// Why a conversion was refused.
public struct ConversionError: Error, Hashable, Sendable, Codable, CustomStringConvertible {
  public enum Kind: String, Hashable, Sendable, Codable {
    /// The data uses something the target version cannot express.
    case lossy
    /// No rule route leads from the current version to the target.
    case noRoute
    /// A route exists but no transcoder for one of its steps is registered.
    case notImplemented
    /// The target names a version the registry does not know, or of another component.
    case badTarget
    /// The transcoder failed while re-encoding.
    case encodeFailed
  }

  public var kind: Kind
  public var component: ComponentID?
  public var message: String
  /// For `.lossy`: every place that cannot be converted.
  public var violations: [ConversionViolation]

  public init(_ kind: Kind, _ message: String, component: ComponentID? = nil, violations: [ConversionViolation] = []) {
    self.kind = kind
    self.message = message
    self.component = component
    self.violations = violations
  }

  public var description: String {
    var s = "\(kind.rawValue)"
    if let component { s += " (\(component))" }
    s += ": \(message)"
    for v in violations.prefix(20) { s += "\n  \(v)" }
    if violations.count > 20 { s += "\n  … and \(violations.count - 20) more" }
    return s
  }
}

/// What the converter would do, before doing it.
public struct ConversionPlan: Hashable, Sendable, Codable {
  public struct Step: Hashable, Sendable, Codable {
    public var component: ComponentID
    public var route: ConversionRoute
  }
  /// Steps in the order they run (components sorted; routes in order).
  public var steps: [Step]
}

/// Converts a decoded handover to target versions where that is lossless, refusing with exact reasons otherwise.
///
///     let c = Converter(transcoders: [...])
///     let plan = try c.plan(subject, targets: [.luo: "luo-v4", .memfd: "memfd-v1"])
///     let converted = try c.convert(subject, targets: ...)
///     // or: lossy (memfd): /LUO/sessions[0]/files[2].seals: seals 0x5 …
///
/// Before any rewriting the converter checks every condition of every step
/// of every route and reports all violations at once, so a refusal lists
/// each session, file and field that stands in the way.
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
  /// - Throws: ``ConversionError`` `.badTarget`, `.noRoute`, `.lossy` (with
  ///   all violations of all components), `.notImplemented`.
  public func plan(_ subject: Subject, targets: [ComponentID: String]) throws(ConversionError) -> ConversionPlan {
    var steps: [ConversionPlan.Step] = []
    var violations: [ConversionViolation] = []
    var lossyComponents: [ComponentID] = []
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
      let v = route.conditions.flatMap { subject.violations(of: $0) }
      if !v.isEmpty {
        violations += v
        lossyComponents.append(c)
      }
      if !route.steps.isEmpty { steps.append(.init(component: c, route: route)) }
    }
    if !violations.isEmpty {
      throw ConversionError(
        .lossy,
        "the target versions cannot express \(violations.count) thing\(violations.count == 1 ? "" : "s") in this handover",
        component: lossyComponents.count == 1 ? lossyComponents[0] : nil, violations: violations)
    }
    for s in steps {
      for r in s.route.steps where transcoder(for: r) == nil {
        throw ConversionError(
          .notImplemented, "no transcoder for \(r.from) → \(r.to) is registered yet", component: s.component)
      }
    }
    return ConversionPlan(steps: steps)
  }

  /// Converts `subject` to `targets` (see ``plan(_:targets:)``).
  public func convert(_ subject: Subject, targets: [ComponentID: String]) throws(ConversionError) -> Subject {
    let p = try plan(subject, targets: targets)
    var s = subject
    for step in p.steps {
      for r in step.route.steps {
        guard let t = transcoder(for: r) else {
          throw ConversionError(.notImplemented, "no transcoder for \(r.from) → \(r.to)", component: step.component)
        }
        s = try t.transcode(s)
      }
    }
    return s
  }

  func transcoder(for r: ConversionRule) -> (any ComponentTranscoder<Subject>)? {
    transcoders.first { $0.rule.component == r.component && $0.rule.from == r.from && $0.rule.to == r.to }
  }
}

// SPDX-License-Identifier: Apache-2.0
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
/// ``HandoverModel`` is the real one: it names the version of each
/// component it holds and answers, for each condition a lossy conversion
/// needs, where the data violates it.
public protocol ConversionSubject {
  /// The version each component is in now (registry names).
  var componentVersions: [ComponentID: String] { get }
  /// Every place where `condition` does not hold (empty: it holds).
  func violations(of condition: ConversionCondition) -> [ConversionViolation]
}

/// Rewrites one component of a subject from one version to the next; one per ``ConversionRule``.
public protocol ComponentTranscoder<Subject> {
  associatedtype Subject: ConversionSubject
  /// The rule this transcoder implements.
  var rule: ConversionRule { get }
  /// Rewrites `subject`'s component from `rule.from` to `rule.to`.
  ///
  /// Transcoders keep everything the subject holds, even what the target
  /// cannot say: the converter checks the route's conditions on the result
  /// and refuses with every violation, so nothing is dropped silently.
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
    /// The target versions do not go together (a version needs another component's version).
    case unsatisfiedRequirement
    /// The source handover does not decode cleanly, so it cannot be converted faithfully.
    case unreadableSource
    /// The transcoder or encoder failed while re-encoding.
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

/// What the converter does, before doing it.
public struct ConversionPlan: Hashable, Sendable, Codable {
  public struct Step: Hashable, Sendable, Codable {
    public var component: ComponentID
    public var route: ConversionRoute
  }
  /// Steps in the order they run: nested formats and file handlers first,
  /// then sub-nodes, sub-blobs, and the root last (a parent's conditions
  /// depend on what its children become).
  public var steps: [Step]
  /// Every component's version before, by component name.
  public var before: [String: String]
  /// Every component's version after, by component name.
  public var after: [String: String]

  public init(steps: [Step], before: [String: String] = [:], after: [String: String] = [:]) {
    self.steps = steps
    self.before = before
    self.after = after
  }
}

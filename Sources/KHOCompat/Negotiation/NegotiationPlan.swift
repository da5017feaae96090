// SPDX-License-Identifier: Apache-2.0
/// The outcome of a negotiation: per component, what to write or why not.
public struct NegotiationPlan: Hashable, Sendable, Codable {
  public static let schemaID = "kho-compat-plan/1"

  /// What happens to one component.
  public enum Decision: String, Hashable, Sendable, Codable {
    /// Write the listed versions.
    case write
    /// An optional component is left out; the update proceeds without it.
    case dropped
    /// A mandatory component cannot be handed over; the update must not proceed.
    case blocked
  }

  /// The plan for one component.
  public struct Entry: Hashable, Sendable, Codable {
    public var component: ComponentID
    public var classification: ComponentClass
    public var decision: Decision
    /// Versions to write, newest first (several when dual-writing).
    public var write: [String]
    /// The version each incoming side will read, by its label.
    public var readerPicks: [String: String]
    /// False when an incoming manifest does not cover the component (the choice is unchecked).
    public var verified: Bool
    /// Why: one paragraph for a person.
    public var reason: String
    /// Further facts (unregistered strings, unverified requirements, conversion hints).
    public var notes: [String]

    private enum CodingKeys: String, CodingKey {
      case component, classification, decision, write, readerPicks = "reader_picks", verified, reason, notes
    }
  }

  public var schema: String = Self.schemaID
  /// Label of the outgoing side.
  public var outgoing: String
  /// Labels of the incoming sides.
  public var incoming: [String]
  /// The profile in force.
  public var profile: String?
  /// One entry per component, sorted by component.
  public var entries: [Entry]

  /// Whether no mandatory component is blocked.
  public var canProceed: Bool { !entries.contains { $0.decision == .blocked } }

  private enum CodingKeys: String, CodingKey {
    case schema, outgoing, incoming, profile, entries, canProceed = "can_proceed"
  }

  public init(outgoing: String, incoming: [String], profile: String?, entries: [Entry]) {
    self.outgoing = outgoing
    self.incoming = incoming
    self.profile = profile
    self.entries = entries
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    schema = try c.decode(String.self, forKey: .schema)
    outgoing = try c.decode(String.self, forKey: .outgoing)
    incoming = try c.decode([String].self, forKey: .incoming)
    profile = try c.decodeIfPresent(String.self, forKey: .profile)
    entries = try c.decode([Entry].self, forKey: .entries)
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(schema, forKey: .schema)
    try c.encode(outgoing, forKey: .outgoing)
    try c.encode(incoming, forKey: .incoming)
    try c.encodeIfPresent(profile, forKey: .profile)
    try c.encode(entries, forKey: .entries)
    try c.encode(canProceed, forKey: .canProceed)
  }

  /// The entry for `component`.
  public func entry(_ component: ComponentID) -> Entry? { entries.first { $0.component == component } }

  /// The plan as pretty JSON with sorted keys.
  public func jsonBytes() -> [UInt8] { CompatJSON.encode(self) }

  /// The plan as text: one block per component, then the verdict.
  public func text() -> String {
    var s = "negotiation: \(outgoing) → \(incoming.joined(separator: ", "))"
    if let profile { s += " (profile \(profile))" }
    s += "\n"
    let width = max(12, entries.map { $0.component.rawValue.count }.max() ?? 0)
    for e in entries {
      let name = e.component.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
      let cls = e.classification.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
      let head: String
      switch e.decision {
      case .write: head = "write " + e.write.joined(separator: ", ") + (e.verified ? "" : " (unverified)")
      case .dropped: head = "dropped (optional)"
      case .blocked: head = "BLOCKED (mandatory)"
      }
      s += "  \(name)  \(cls)  \(head)\n"
      s += "      \(e.reason)\n"
      for n in e.notes { s += "      note: \(n)\n" }
    }
    let blocked = entries.filter { $0.decision == .blocked }.count
    let dropped = entries.filter { $0.decision == .dropped }.count
    if blocked > 0 {
      s += "result: blocked: \(blocked) mandatory component\(blocked == 1 ? "" : "s") cannot be handed over\n"
    } else {
      s +=
        "result: can proceed" + (dropped > 0 ? " without \(dropped) optional component\(dropped == 1 ? "" : "s")" : "")
        + "\n"
    }
    return s
  }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation

/// How much a component matters to a live update.
public enum ComponentClass: String, Hashable, Sendable, Codable, CaseIterable {
  /// Without it the update must not proceed (IOMMU page tables, LUO itself).
  case mandatory
  /// It may be dropped: the update proceeds, at a cost (a PCI config-space cache: longer blackout).
  case optional
}

/// The operator's rules for a negotiation (JSON, documented in `Specs/compat-manifest.md`).
///
///     {
///       "schema": "kho-compat-policy/1",
///       "mandatory": ["kho", "luo", "memfd"],
///       "optional": ["pci"],
///       "default": "mandatory",
///       "profile": "fleet-2026a",
///       "dual_write": ["memfd"],
///       "drop_cost": { "pci": "devices re-enumerate config space: longer blackout" }
///     }
public struct NegotiationPolicy: Hashable, Sendable, Codable {
  public static let schemaID = "kho-compat-policy/1"
  /// Most components a policy may name.
  public static let maxEntries = 4096

  public var schema: String
  /// Components that must be handed over.
  public var mandatory: [String]
  /// Components that may be dropped.
  public var optional: [String]
  /// The class of every component not named (mandatory unless said otherwise).
  public var defaultClass: ComponentClass
  /// A profile both sides must use (the CLI's --profile overrides it).
  public var profile: String?
  /// Components that may be written in several versions at once; `*` = all.
  public var dualWrite: [String]
  /// What dropping an optional component costs, per component (quoted in plans).
  public var dropCost: [String: String]

  public init(
    mandatory: [String] = [], optional: [String] = [], defaultClass: ComponentClass = .mandatory,
    profile: String? = nil, dualWrite: [String] = [], dropCost: [String: String] = [:]
  ) {
    self.schema = Self.schemaID
    self.mandatory = mandatory
    self.optional = optional
    self.defaultClass = defaultClass
    self.profile = profile
    self.dualWrite = dualWrite
    self.dropCost = dropCost
  }

  /// Everything mandatory, nothing dual-written.
  public static let strict = NegotiationPolicy()

  private enum CodingKeys: String, CodingKey {
    case schema, mandatory, optional, defaultClass = "default", profile, dualWrite = "dual_write"
    case dropCost = "drop_cost"
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    schema = try c.decode(String.self, forKey: .schema)
    guard schema == Self.schemaID else {
      throw CompatError(
        .unknownSchema, "schema '\(CompatibleString.shown(schema))' is not \(Self.schemaID)", location: "schema")
    }
    mandatory = try c.decodeIfPresent([String].self, forKey: .mandatory) ?? []
    optional = try c.decodeIfPresent([String].self, forKey: .optional) ?? []
    defaultClass = try c.decodeIfPresent(ComponentClass.self, forKey: .defaultClass) ?? .mandatory
    profile = try c.decodeIfPresent(String.self, forKey: .profile)
    dualWrite = try c.decodeIfPresent([String].self, forKey: .dualWrite) ?? []
    dropCost = try c.decodeIfPresent([String: String].self, forKey: .dropCost) ?? [:]
  }

  /// Parses and validates policy JSON.
  ///
  /// - Throws: ``CompatError``: `.invalidJSON`, `.unknownSchema`, `.badName`,
  ///   `.duplicate`, `.limitExceeded`, `.conflictingPolicy` (a component both
  ///   mandatory and optional).
  public static func decode(_ bytes: some Collection<UInt8>) throws(CompatError) -> NegotiationPolicy {
    let p: NegotiationPolicy
    do { p = try JSONDecoder().decode(NegotiationPolicy.self, from: Data(bytes)) } catch {
      throw CompatJSON.error(error, what: "policy")
    }
    try p.validate()
    return p
  }

  /// The policy as pretty JSON with sorted keys.
  public func jsonBytes() -> [UInt8] { CompatJSON.encode(self) }

  /// Checks the rules ``decode(_:)`` documents.
  public func validate() throws(CompatError) {
    guard schema == Self.schemaID else {
      throw CompatError(
        .unknownSchema, "schema '\(CompatibleString.shown(schema))' is not \(Self.schemaID)", location: "schema")
    }
    for (key, list) in [("mandatory", mandatory), ("optional", optional), ("dual_write", dualWrite)] {
      guard list.count <= Self.maxEntries else {
        throw CompatError(.limitExceeded, "\(list.count) entries", location: key)
      }
      var seen: Set<String> = []
      for (i, s) in list.enumerated() {
        if !(key == "dual_write" && s == "*") { try CompatNames.checkName(s, at: "\(key)[\(i)]") }
        guard seen.insert(s).inserted else {
          throw CompatError(.duplicate, "'\(s)' is listed twice", location: "\(key)[\(i)]")
        }
      }
    }
    if let both = Set(mandatory).intersection(optional).sorted().first {
      throw CompatError(.conflictingPolicy, "'\(both)' is both mandatory and optional", location: "optional")
    }
    if let profile { try CompatNames.checkName(profile, at: "profile") }
    guard dropCost.count <= Self.maxEntries else {
      throw CompatError(.limitExceeded, "\(dropCost.count) entries", location: "drop_cost")
    }
    for k in dropCost.keys.sorted() { try CompatNames.checkName(k, at: "drop_cost.\(CompatibleString.shown(k))") }
  }

  /// The class of `component` under this policy.
  public func classify(_ component: ComponentID) -> ComponentClass {
    if mandatory.contains(component.rawValue) { return .mandatory }
    if optional.contains(component.rawValue) { return .optional }
    return defaultClass
  }

  /// Whether `component` may be dual-written.
  public func allowsDualWrite(_ component: ComponentID) -> Bool {
    dualWrite.contains("*") || dualWrite.contains(component.rawValue)
  }
}

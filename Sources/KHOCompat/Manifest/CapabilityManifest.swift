// SPDX-License-Identifier: Apache-2.0
import Foundation

/// What a kernel, an agent or a handover can write and read, per component.
///
/// The JSON form is documented in `Specs/compat-manifest.md`:
///
///     {
///       "schema": "kho-compat-manifest/1",
///       "subject": { "kind": "kernel", "name": "vmlinux-7.2", "release": "v7.2-rc1" },
///       "scope": "all",
///       "components": {
///         "kho":   { "read": ["kho-v4"], "write": ["kho-v4"] },
///         "memfd": { "read": ["memfd-v1", "memfd-v2"], "write": ["memfd-v2", "memfd-v1"],
///                    "multi_write": true }
///       },
///       "profiles": { "current": ["kho-v4", "memfd-v2"], "previous": ["kho-v4", "memfd-v1"] }
///     }
public struct CapabilityManifest: Hashable, Sendable, Codable {
  /// The schema identifier this toolkit writes and reads.
  public static let schemaID = "kho-compat-manifest/1"
  /// Most components a manifest may list.
  public static let maxComponents = 4096
  /// Most versions per list.
  public static let maxVersionsPerList = 256
  /// Most profiles.
  public static let maxProfiles = 256

  /// Who the manifest describes.
  public struct Subject: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
      case kernel, agent, handover
    }
    public var kind: Kind
    public var name: String?
    public var release: String?
    /// Where the manifest was produced from (a file, a section, "hand-written").
    public var source: String?

    public init(kind: Kind, name: String? = nil, release: String? = nil, source: String? = nil) {
      self.kind = kind
      self.name = name
      self.release = release
      self.source = source
    }
  }

  /// Which components the manifest speaks for; a component outside it is unknown, not unsupported.
  public enum Scope: String, Hashable, Sendable, Codable, CaseIterable {
    /// Every component: one not listed is not supported.
    case all
    /// What a vmlinux `.liveupdate_versions` section lists: LUO and every file handler.
    case liveupdateVersions = "liveupdate-versions"
    /// What one handover contains: a component not listed was not written.
    case handover
  }

  /// What one component can be written and read as.
  public struct Capability: Hashable, Sendable, Codable {
    /// Versions (kernel strings or registry names) the reader accepts.
    public var read: [String]
    /// Versions the writer can emit, any order.
    public var write: [String]
    /// Whether the writer can emit several versions in one handover (dual-write).
    public var multiWrite: Bool?

    public init(read: [String] = [], write: [String] = [], multiWrite: Bool? = nil) {
      self.read = read
      self.write = write
      self.multiWrite = multiWrite
    }

    private enum CodingKeys: String, CodingKey { case read, write, multiWrite = "multi_write" }

    public init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      read = try c.decodeIfPresent([String].self, forKey: .read) ?? []
      write = try c.decodeIfPresent([String].self, forKey: .write) ?? []
      multiWrite = try c.decodeIfPresent(Bool.self, forKey: .multiWrite)
    }
  }

  public var schema: String
  public var subject: Subject
  public var scope: Scope
  /// Capabilities by component identifier.
  public var components: [String: Capability]
  /// Named sets of versions (Alexander Graf's profiles), over all components.
  public var profiles: [String: [String]]?
  /// Facts the producer saw but could not express as versions.
  public var observations: [String]?

  public init(
    subject: Subject, scope: Scope = .all, components: [String: Capability],
    profiles: [String: [String]]? = nil, observations: [String]? = nil
  ) {
    self.schema = Self.schemaID
    self.subject = subject
    self.scope = scope
    self.components = components
    self.profiles = profiles
    self.observations = observations
  }

  private enum CodingKeys: String, CodingKey {
    case schema, subject, scope, components, profiles, observations
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    schema = try c.decode(String.self, forKey: .schema)
    // Say "wrong schema" before "missing key" when handed another document.
    guard schema == Self.schemaID else {
      throw CompatError(
        .unknownSchema, "schema '\(CompatibleString.shown(schema))' is not \(Self.schemaID)", location: "schema")
    }
    subject = try c.decode(Subject.self, forKey: .subject)
    scope = try c.decodeIfPresent(Scope.self, forKey: .scope) ?? .all
    components = try c.decode([String: Capability].self, forKey: .components)
    profiles = try c.decodeIfPresent([String: [String]].self, forKey: .profiles)
    observations = try c.decodeIfPresent([String].self, forKey: .observations)
  }

  /// Parses and validates manifest JSON.
  ///
  /// - Throws: ``CompatError`` `.invalidJSON` (with the JSON path) for
  ///   malformed JSON or a schema mismatch in shape; `.unknownSchema`;
  ///   `.limitExceeded`; `.badName`; any compatible-string error at its
  ///   path; `.duplicate`; `.componentMismatch` when a registered string is
  ///   listed under another component; `.undeclared` when a profile names a
  ///   version no component lists.
  public static func decode(_ bytes: some Collection<UInt8>, registry: VersionRegistry = .standard)
    throws(CompatError) -> CapabilityManifest
  {
    let m: CapabilityManifest
    do { m = try JSONDecoder().decode(CapabilityManifest.self, from: Data(bytes)) } catch {
      throw CompatJSON.error(error, what: "manifest")
    }
    try m.validate(registry: registry)
    return m
  }

  /// The manifest as pretty JSON with sorted keys (stable bytes for a given manifest).
  public func jsonBytes() -> [UInt8] { CompatJSON.encode(self) }

  /// Checks every rule ``decode(_:registry:)`` documents.
  public func validate(registry: VersionRegistry = .standard) throws(CompatError) {
    guard schema == Self.schemaID else {
      throw CompatError(
        .unknownSchema, "schema '\(CompatibleString.shown(schema))' is not \(Self.schemaID)", location: "schema")
    }
    guard components.count <= Self.maxComponents else {
      throw CompatError(
        .limitExceeded, "\(components.count) components (at most \(Self.maxComponents))", location: "components")
    }
    var listed: Set<String> = []
    for key in components.keys.sorted() {
      let at = "components.\(CompatibleString.shown(key))"
      try CompatNames.checkName(key, at: at)
      let cap = components[key] ?? Capability()
      for (listName, list) in [("read", cap.read), ("write", cap.write)] {
        guard list.count <= Self.maxVersionsPerList else {
          throw CompatError(
            .limitExceeded, "\(list.count) versions (at most \(Self.maxVersionsPerList))", location: "\(at).\(listName)"
          )
        }
        var seen: Set<String> = []
        for (i, s) in list.enumerated() {
          let here = "\(at).\(listName)[\(i)]"
          try CompatNames.checkVersion(s, at: here, registry: registry)
          guard seen.insert(s).inserted else {
            throw CompatError(.duplicate, "'\(s)' is listed twice", location: here)
          }
          let id = registry.identify(s)
          if id.isKnown, id.component.rawValue != key {
            throw CompatError(
              .componentMismatch, "'\(s)' is a version of \(id.component), not \(CompatibleString.shown(key))",
              location: here)
          }
          listed.insert(s)
        }
      }
    }
    if let profiles {
      guard profiles.count <= Self.maxProfiles else {
        throw CompatError(
          .limitExceeded, "\(profiles.count) profiles (at most \(Self.maxProfiles))", location: "profiles")
      }
      for name in profiles.keys.sorted() {
        let at = "profiles.\(CompatibleString.shown(name))"
        try CompatNames.checkName(name, at: at)
        let list = profiles[name] ?? []
        guard list.count <= Self.maxComponents else {
          throw CompatError(.limitExceeded, "\(list.count) versions in a profile", location: at)
        }
        var seen: Set<String> = []
        for (i, s) in list.enumerated() {
          guard seen.insert(s).inserted else {
            throw CompatError(.duplicate, "'\(CompatibleString.shown(s))' is listed twice", location: "\(at)[\(i)]")
          }
          guard listed.contains(s) else {
            throw CompatError(
              .undeclared, "profile names '\(CompatibleString.shown(s))', which no component reads or writes",
              location: "\(at)[\(i)]")
          }
        }
      }
    }
    if let observations, observations.count > Self.maxComponents {
      throw CompatError(.limitExceeded, "\(observations.count) observations", location: "observations")
    }
  }

  // MARK: Queries

  /// The capability for `component` (empty when not listed).
  public func capability(_ component: ComponentID) -> Capability {
    components[component.rawValue] ?? Capability()
  }

  /// Whether the manifest speaks for `component` (see ``Scope``).
  public func covers(_ component: ComponentID, registry: VersionRegistry = .standard) -> Bool {
    switch scope {
    case .all, .handover: return true
    case .liveupdateVersions:
      if components[component.rawValue] != nil || component == .luo { return true }
      let roles = Set(registry.versions(of: component).map(\.role))
      // Unregistered components in a version section are file handlers.
      return roles.isEmpty || roles.contains(.fileHandler)
    }
  }

  /// Every version this manifest's profile `name` lists, or nil when it has no such profile.
  public func profile(_ name: String) -> Set<String>? { profiles?[name].map(Set.init) }
}

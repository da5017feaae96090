// SPDX-License-Identifier: Apache-2.0
/// Every component version the toolkit knows, with lookups by name and by string.
///
///     let r = VersionRegistry.standard
///     r.version(named: "luo-v5;block-v1")?.nests   // ["block-v1"]
///     r.identify("kvm_vm_luo_v1").scope            // .opaque
///     r.identify("foo-v3").isKnown                 // false
public struct VersionRegistry: Sendable {
  /// All versions, sorted by component then ordinal.
  public let versions: [ComponentVersion]
  private let byName: [String: Int]
  private let byString: [String: Int]
  /// Base family of every registered string → its component.
  private let families: [String: ComponentID]
  /// Per component: (base -vN, ordinal) of every registered string.
  private let baseVersions: [ComponentID: [(n: Int, ordinal: Int)]]

  /// The toolkit's registry (see `RegistryTable.swift`).
  public static let standard = VersionRegistry(versions: standardVersions)

  /// A registry over `versions` (later duplicates of a name or string are ignored).
  public init(versions: [ComponentVersion]) {
    let sorted = versions.sorted { ($0.component, $0.ordinal, $0.name) < ($1.component, $1.ordinal, $1.name) }
    var byName: [String: Int] = [:]
    var byString: [String: Int] = [:]
    for (i, v) in sorted.enumerated() {
      if byName[v.name] == nil { byName[v.name] = i }
      for s in v.strings where byString[s] == nil { byString[s] = i }
    }
    var families: [String: ComponentID] = [:]
    var baseVersions: [ComponentID: [(n: Int, ordinal: Int)]] = [:]
    for v in sorted {
      for str in v.strings {
        guard let p = try? CompatibleString(parsing: str) else { continue }
        if families[p.base.family] == nil { families[p.base.family] = v.component }
        if let n = p.base.version { baseVersions[v.component, default: []].append((n, v.ordinal)) }
      }
    }
    self.versions = sorted
    self.byName = byName
    self.byString = byString
    self.families = families
    self.baseVersions = baseVersions
  }

  /// The version registered under `name`.
  public func version(named name: String) -> ComponentVersion? {
    byName[name].map { versions[$0] }
  }

  /// The version a kernel means by the exact string `s`.
  public func version(forString s: String) -> ComponentVersion? {
    byString[s].map { versions[$0] }
  }

  /// Every component, sorted.
  public var components: [ComponentID] { Array(Set(versions.map(\.component))).sorted() }

  /// The versions of `component`, oldest first.
  public func versions(of component: ComponentID) -> [ComponentVersion] {
    versions.filter { $0.component == component }
  }

  /// The toolkit's read/write support for `name`.
  public func support(_ name: String) -> CodecSupport { CodecSupport.of(name) }

  /// The kernel releases known to write `name`.
  public func releases(writing name: String) -> [KernelRelease] {
    KernelRelease.known.filter { $0.writes.values.contains(name) }
  }

  /// What a string is: a registry version, a recognised opaque pattern, or unknown.
  ///
  /// Exact registry strings win. Otherwise the string is parsed (composite
  /// and `-vN` suffix): its component is the base part's family, and parts
  /// the registry does not know are listed in ``Identification/unknownParts``.
  /// A string that does not parse is reported with its ``CompatError``.
  public func identify(_ s: String) -> Identification {
    if let v = version(forString: s) ?? version(named: s) {
      return Identification(
        string: s, component: v.component, version: v, parsed: try? CompatibleString(parsing: s),
        unknownParts: [], error: nil, pattern: nil)
    }
    for p in Self.opaquePatterns where s.hasPrefix(p.prefix) {
      let rest = s.utf8.dropFirst(p.prefix.utf8.count)
      if !rest.isEmpty, rest.count <= 9, rest.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
        return Identification(
          string: s, component: ComponentID(s), version: nil, parsed: try? CompatibleString(parsing: s),
          unknownParts: [], error: nil, pattern: p.prefix + "<i>")
      }
    }
    let parsed: CompatibleString
    do { parsed = try CompatibleString(parsing: s) } catch {
      return Identification(
        string: s, component: ComponentID(s), version: nil, parsed: nil, unknownParts: [s], error: error,
        pattern: nil)
    }
    let baseVersion = version(forString: parsed.base.text)
    let component = baseVersion?.component ?? familyComponent(parsed.base.family)
    var unknown: [String] = []
    if baseVersion == nil { unknown.append(parsed.base.text) }
    for p in parsed.subComponents where version(forString: p.text) == nil {
      unknown.append(p.text)
    }
    return Identification(
      string: s, component: component, version: nil, parsed: parsed, unknownParts: unknown, error: nil,
      pattern: nil)
  }

  /// The component for an unregistered family: the registered component of that
  /// family's versions when there is one (`luo-v9` → luo), else the family itself.
  func familyComponent(_ family: String) -> ComponentID {
    families[family] ?? ComponentID(family)
  }

  /// Whether `a` is an older version than `b` of the same component.
  ///
  /// Registry versions order by ``ComponentVersion/ordinal``. Unregistered
  /// strings order by their base `-vN`, then by having more sub-components,
  /// then bytewise; a registered version sorts before an unregistered one
  /// with the same `N` (an unknown string is assumed newer).
  public func isOlder(_ a: String, than b: String) -> Bool { orderKey(a) < orderKey(b) }

  /// `versions` sorted newest first (deterministic).
  public func newestFirst(_ versions: [String]) -> [String] {
    // Each key once (a key parses its string), then a stable sort by it.
    versions.map { (key: orderKey($0), text: $0) }.sorted { $1.key < $0.key }.map(\.text)
  }

  func orderKey(_ s: String) -> OrderKey {
    let parsed = try? CompatibleString(parsing: s)
    let parts = parsed?.parts.count ?? 1
    if let v = version(forString: s) ?? version(named: s) {
      return OrderKey(major: v.ordinal, known: 0, parts: parts, text: Array(s.utf8))
    }
    // Unregistered: place it after the newest registered version of its
    // component whose base -vN is not above its own.
    let n = parsed?.base.version ?? 0
    let component = identify(s).component
    var major = n
    let best = (baseVersions[component] ?? []).filter { $0.n <= n }.map(\.ordinal).max()
    if let best { major = best }
    return OrderKey(major: major, known: 1, parts: parts, text: Array(s.utf8))
  }

  struct OrderKey: Comparable {
    var major: Int
    var known: Int
    var parts: Int
    var text: [UInt8]
    static func < (a: OrderKey, b: OrderKey) -> Bool {
      if a.major != b.major { return a.major < b.major }
      if a.known != b.known { return a.known < b.known }
      if a.parts != b.parts { return a.parts < b.parts }
      return a.text.lexicographicallyPrecedes(b.text)
    }
  }
}

/// What the registry makes of one string.
public struct Identification: Sendable, Hashable {
  /// The string as given.
  public var string: String
  /// The component it belongs to (derived from its family when unregistered).
  public var component: ComponentID
  /// The registry version, when the string is registered.
  public var version: ComponentVersion?
  /// The string split into parts, when it parses.
  public var parsed: CompatibleString?
  /// Parts the registry does not know (the whole string when it does not parse).
  public var unknownParts: [String]
  /// Why the string does not parse, when it does not.
  public var error: CompatError?
  /// The opaque pattern it matched (`liveupdate-test-flb-v<i>`).
  public var pattern: String?

  /// Whether the registry knows the string (a version or an opaque pattern).
  public var isKnown: Bool { version != nil || pattern != nil }
  /// Whether the toolkit decodes it.
  public var scope: DecodeScope? { pattern != nil ? .opaque : version?.scope }
}

// SPDX-License-Identifier: Apache-2.0
/// What a decoded handover was found to contain, as input for a manifest.
///
/// The inspector's walker fills this in (every compatible string it met,
/// with where); until it lands, `khodump compat versions` fills it from a
/// root FDT alone.
public struct HandoverContents: Hashable, Sendable, Codable {
  /// One compatible string found in the handover.
  public struct Found: Hashable, Sendable, Codable {
    /// Where it was found (`/`, `/LUO`, `/LUO/sessions[2]/files[0]`).
    public var path: String
    /// The string, or a registry name for stringless versions (`kexec-metadata-v1`).
    public var compatible: String
    public init(path: String, compatible: String) {
      self.path = path
      self.compatible = compatible
    }
  }

  /// Every string found.
  public var found: [Found]
  /// Sub-node names under the root whose version was not read (no physical memory).
  public var unreadSubNodes: [String]
  /// A name for the image (its file name).
  public var name: String?

  public init(found: [Found], unreadSubNodes: [String] = [], name: String? = nil) {
    self.found = found
    self.unreadSubNodes = unreadSubNodes
    self.name = name
  }
}

extension CapabilityManifest {
  /// A kernel manifest from the strings of a vmlinux `.liveupdate_versions` section.
  ///
  /// The section lists the LUO core's compatible and every file handler's
  /// (kho-abi.md §9.4); a mainline kernel reads and writes exactly the
  /// version it lists, so each string is both read and write for its
  /// component. The scope is `liveupdate-versions`: the KHO root, FLBs and
  /// memblock are not covered. Unparseable strings are kept as observations.
  public static func fromVersionSection(
    _ strings: [String], name: String? = nil, registry: VersionRegistry = .standard
  ) -> CapabilityManifest {
    var comps: [String: Capability] = [:]
    var obs: [String] = []
    for s in strings {
      let id = registry.identify(s)
      if let e = id.error {
        obs.append("unusable string '\(CompatibleString.shown(s))': \(e.message)")
        continue
      }
      var c = comps[id.component.rawValue] ?? Capability()
      if !c.read.contains(s) { c.read.append(s) }
      if !c.write.contains(s) { c.write.append(s) }
      comps[id.component.rawValue] = c
      if !id.isKnown {
        obs.append("'\(s)' is not in the registry (unknown parts: \(id.unknownParts.joined(separator: ", ")))")
      }
    }
    for (k, c) in comps where c.write.count > 1 {
      comps[k]?.read = registry.newestFirst(c.read)
      comps[k]?.write = registry.newestFirst(c.write)
    }
    return CapabilityManifest(
      subject: Subject(kind: .kernel, name: name, source: "vmlinux .liveupdate_versions"),
      scope: .liveupdateVersions, components: comps, observations: obs.isEmpty ? nil : obs)
  }

  /// A handover manifest: what one handover actually contains.
  ///
  /// Every string found becomes a `write` of its component (read lists
  /// stay empty: a handover says nothing about what its writer reads).
  /// Sub-nodes whose version was not read are listed as observations.
  public static func fromHandover(
    _ contents: HandoverContents, registry: VersionRegistry = .standard
  ) -> CapabilityManifest {
    var comps: [String: Capability] = [:]
    var obs: [String] = []
    for f in contents.found {
      let id = registry.identify(f.compatible)
      if let e = id.error {
        obs.append("\(f.path): unusable string '\(CompatibleString.shown(f.compatible))': \(e.message)")
        continue
      }
      var c = comps[id.component.rawValue] ?? Capability()
      if !c.write.contains(f.compatible) { c.write.append(f.compatible) }
      comps[id.component.rawValue] = c
      if !id.isKnown { obs.append("\(f.path): '\(f.compatible)' is not in the registry") }
    }
    for (k, c) in comps where c.write.count > 1 {
      comps[k]?.write = registry.newestFirst(c.write)
      comps[k]?.multiWrite = true
    }
    for n in contents.unreadSubNodes.sorted() {
      let guess = SubNodeNames.component(for: n).map { " (\($0))" } ?? ""
      obs.append("sub-node '\(n)'\(guess) present; its version needs physical memory to read")
    }
    return CapabilityManifest(
      subject: Subject(kind: .handover, name: contents.name, source: "handover image"),
      scope: .handover, components: comps, observations: obs.isEmpty ? nil : obs)
  }
}

/// The KHO sub-node names the kernel registers, and their components (kho-abi.md §2.1, §10).
public enum SubNodeNames {
  /// Known node name → component.
  public static let known: [String: ComponentID] = [
    "LUO": .luo, "memblock": .memblock, "kexec-metadata": .kexecMetadata, "kho_test": "kho-test",
  ]
  /// The component a root sub-node name stands for.
  public static func component(for name: String) -> ComponentID? { known[name] }
}

extension CapabilityManifest {
  /// A kernel manifest for a release the registry knows: it reads and writes exactly its own versions.
  ///
  /// Components whose version in the release is unknown are left out and noted.
  public static func fromRelease(_ release: KernelRelease) -> CapabilityManifest {
    var comps: [String: Capability] = [:]
    for (c, v) in release.writes { comps[c.rawValue] = Capability(read: [v], write: [v]) }
    let obs = release.unknown.keys.sorted().map { "\($0): \(release.unknown[$0] ?? "")" }
    return CapabilityManifest(
      subject: Subject(
        kind: .kernel, name: release.name, release: release.name,
        source: "registry" + (release.inferred ? " (release mapping inferred)" : "")),
      components: comps, observations: obs.isEmpty ? nil : obs)
  }
}

// SPDX-License-Identifier: Apache-2.0
extension CapabilityManifest {
  /// The manifest as text: the subject, one line per component, then observations.
  ///
  ///     kernel vmlinux-7.2 (vmlinux .liveupdate_versions; scope liveupdate-versions)
  ///       luo     read luo-v5   write luo-v5   [mainline, decoded]
  ///       foo     read foo-v3   write foo-v3   [not in the registry]
  public func text(registry: VersionRegistry = .standard) -> String {
    var head = subject.kind.rawValue
    if let n = subject.name { head += " \(n)" }
    var paren: [String] = []
    if let r = subject.release { paren.append("release \(r)") }
    if let s = subject.source { paren.append(s) }
    paren.append("scope \(scope.rawValue)")
    var s = head + " (" + paren.joined(separator: "; ") + ")\n"
    let width = max(10, components.keys.map(\.count).max() ?? 0)
    for key in components.keys.sorted() {
      let c = components[key] ?? Capability()
      var line = "  " + key.padding(toLength: width, withPad: " ", startingAt: 0)
      if !c.read.isEmpty { line += "  read " + c.read.joined(separator: ", ") }
      if !c.write.isEmpty { line += "  write " + c.write.joined(separator: ", ") }
      if c.multiWrite == true { line += " (several at once)" }
      let tags = Set(
        (c.read + c.write).map { v -> String in
          let id = registry.identify(v)
          guard id.isKnown else { return "not in the registry" }
          if let ver = id.version { return "\(ver.status.rawValue), \(ver.scope.rawValue)" }
          return "recognised pattern \(id.pattern ?? ""), opaque"
        }
      ).sorted()
      if !tags.isEmpty { line += "   [" + tags.joined(separator: "; ") + "]" }
      s += line + "\n"
    }
    for name in (profiles ?? [:]).keys.sorted() {
      s += "  profile \(name): " + (profiles?[name] ?? []).joined(separator: ", ") + "\n"
    }
    for o in observations ?? [] { s += "  note: \(o)\n" }
    return s
  }
}

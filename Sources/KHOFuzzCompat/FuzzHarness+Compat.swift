// SPDX-License-Identifier: Apache-2.0
import KHOCompat
import KHOCore
import KHOFuzzFormats

extension FuzzHarness {
  /// Arbitrary bytes as manifest JSON (and as policy JSON): refused with a
  /// CompatError, or a manifest whose JSON re-decodes to itself with the
  /// same bytes, renders as text, and negotiates against itself the same
  /// way twice.
  @Sendable public static func manifest(_ data: [UInt8]) -> String? {
    if let p = try? NegotiationPolicy.decode(data) {
      guard let again = try? NegotiationPolicy.decode(p.jsonBytes()), again == p else {
        return "policy JSON round trip changed it"
      }
    }
    guard let m = try? CapabilityManifest.decode(data) else { return nil }
    let bytes = m.jsonBytes()
    guard let again = try? CapabilityManifest.decode(bytes) else { return "re-encoded manifest does not decode" }
    guard again == m, again.jsonBytes() == bytes else { return "manifest JSON round trip changed it" }
    _ = m.text()
    let n = Negotiator()
    let profile = m.profiles?.keys.sorted().first
    let a = try? n.negotiate(outgoing: m, incoming: [m], profile: profile)
    let b = try? n.negotiate(outgoing: m, incoming: [m], profile: profile)
    guard a == b else { return "negotiation is not deterministic" }
    if let a { _ = a.text() }
    return nil
  }

  /// Arbitrary bytes as a vmlinux and as a bare `.liveupdate_versions`
  /// section: refused with a DecodeError, or strings that re-encode to the
  /// exact section bytes and make a valid manifest.
  @Sendable public static func liveupdateVersions(_ data: [UInt8]) -> String? {
    let bytes = Bytes(data)
    if let strings = try? LiveupdateVersionsSection.read(vmlinux: bytes) {
      if (try? CapabilityManifest.fromVersionSection(strings).validate()) == nil {
        return "a section the reader accepted makes an invalid manifest"
      }
    }
    for order in [ByteOrder.little, .big] {
      guard let strings = try? LiveupdateVersionsSection.parse(bytes, order: order) else { continue }
      guard let re = try? LiveupdateVersionsSection.encode(strings, order: order) else {
        return "accepted strings do not re-encode"
      }
      if re != data { return "section round trip changed the bytes" }
    }
    return nil
  }

  /// Arbitrary bytes as a compatible string: refused with a CompatError,
  /// or parts that join back to the input, re-sort to the same composite,
  /// and identify without trapping.
  @Sendable public static func compatString(_ data: [UInt8]) -> String? {
    let text = String(decoding: data, as: UTF8.self)
    let r = VersionRegistry.standard
    _ = r.identify(text)
    guard let s = try? CompatibleString(parsing: text) else { return nil }
    if s.rawValue != text || s.parts.map(\.text).joined(separator: ";") != text { return "parts do not join back" }
    guard let again = try? CompatibleString.composite(s.base.text, s.subComponents.map(\.text)),
      again == s
    else { return "an accepted composite does not rebuild in the same order" }
    for p in s.parts where p.version != nil {
      let rest = p.text.dropFirst(p.family.count)
      if !p.text.hasPrefix(p.family) || !(rest.hasPrefix("-v") || rest.hasPrefix("_v")) {
        return "version suffix parsed wrongly"
      }
    }
    let order = r.newestFirst([text, "luo-v5", "memfd-v1"])
    if Set(order) != Set([text, "luo-v5", "memfd-v1"]) { return "newestFirst lost an element" }
    return nil
  }
}

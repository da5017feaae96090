// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// What changed between two handovers: versions, components, sessions,
/// files and preserved ranges.
public struct HandoverDiff: Codable, Sendable {
  public struct Change: Codable, Sendable, Hashable {
    public var what: String
    public var path: String
    public var before: String?
    public var after: String?
  }

  /// An input that did not decode cleanly: which side, and its errors.
  public struct Damage: Codable, Sendable {
    public var side: String
    public var image: String
    public var problems: [Problem]
  }

  public var changes: [Change] = []
  /// Sides whose walk found errors: a diff of a damaged input is not a "no differences".
  public var damaged: [Damage] = []
  public var preservedAdded: [PreservedEntry] = []
  public var preservedRemoved: [PreservedEntry] = []
  /// Entries beyond the listing cap, counted only.
  public var preservedAddedOmitted = 0
  public var preservedRemovedOmitted = 0

  public var isEmpty: Bool {
    changes.isEmpty && preservedAdded.isEmpty && preservedRemoved.isEmpty && damaged.isEmpty
  }

  /// The most preserved entries listed per direction.
  public static let listCap = 1000

  public init(_ a: HandoverWalker, _ b: HandoverWalker) {
    let ra = a.walk()
    let rb = b.walk()
    for (side, r) in [("a", ra), ("b", rb)] {
      let errors = r.problems.filter { $0.severity == .error }
      if !errors.isEmpty { damaged.append(Damage(side: side, image: r.source.path, problems: errors)) }
    }
    func cmp(_ what: String, _ path: String, _ x: String?, _ y: String?) {
      if x != y { changes.append(Change(what: what, path: path, before: x, after: y)) }
    }
    cmp("version", "/", ra.root?.compatible, rb.root?.compatible)
    cmp("memory map format", "/preserved-memory-map", ra.memoryMap?.format, rb.memoryMap?.format)
    let ca = Dictionary(ra.components.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
    let cb = Dictionary(rb.components.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
    for name in Set(ca.keys).union(cb.keys).sorted() {
      let x = ca[name]
      let y = cb[name]
      if x == nil {
        changes.append(
          Change(what: "component added", path: "/\(name)", before: nil, after: y?.compatible ?? y?.container))
      } else if y == nil {
        changes.append(
          Change(what: "component removed", path: "/\(name)", before: x?.compatible ?? x?.container, after: nil))
      } else {
        cmp("component version", "/\(name)", x?.compatible, y?.compatible)
        if x?.payload != nil || y?.payload != nil { cmp("payload", "/\(name)", x?.summary, y?.summary) }
      }
    }
    cmp(
      "live update number", "/LUO", ra.luo.map { String($0.liveupdateNumber) },
      rb.luo.map { String($0.liveupdateNumber) })
    let sa = Dictionary((ra.luo?.sessions ?? []).map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
    let sb = Dictionary((rb.luo?.sessions ?? []).map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
    for name in Set(sa.keys).union(sb.keys).sorted() {
      let path = "/LUO/sessions/\(name)"
      guard let x = sa[name] else {
        changes.append(
          Change(what: "session added", path: path, before: nil, after: "\(sb[name]?.files.count ?? 0) files"))
        continue
      }
      guard let y = sb[name] else {
        changes.append(Change(what: "session removed", path: path, before: "\(x.files.count) files", after: nil))
        continue
      }
      let fa = Dictionary(x.files.map { ($0.token, $0) }, uniquingKeysWith: { p, _ in p })
      let fb = Dictionary(y.files.map { ($0.token, $0) }, uniquingKeysWith: { p, _ in p })
      for t in Set(fa.keys).union(fb.keys).sorted() {
        let fp = path + "/files/\(t)"
        switch (fa[t], fb[t]) {
        case (nil, let n?): changes.append(Change(what: "file added", path: fp, before: nil, after: n.compatible))
        case (let o?, nil): changes.append(Change(what: "file removed", path: fp, before: o.compatible, after: nil))
        case (let o?, let n?):
          cmp("file handler", fp, o.compatible, n.compatible)
          cmp("file data", fp, o.data.description, n.data.description)
          cmp("memfd size", fp, o.memfd.map { String($0.size) }, n.memfd.map { String($0.size) })
          cmp("payload layout", fp, o.payload?["format"].flatMap(Self.text), n.payload?["format"].flatMap(Self.text))
          cmp("payload", fp, o.summary, n.summary)
        default: break
        }
      }
    }
    let flbA = Dictionary((ra.luo?.flbs ?? []).map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
    let flbB = Dictionary((rb.luo?.flbs ?? []).map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
    for name in Set(flbA.keys).union(flbB.keys).sorted() {
      let path = "/LUO/flbs/\(name)"
      switch (flbA[name], flbB[name]) {
      case (nil, let n?): changes.append(Change(what: "FLB added", path: path, before: nil, after: "count \(n.count)"))
      case (let o?, nil):
        changes.append(Change(what: "FLB removed", path: path, before: "count \(o.count)", after: nil))
      case (let o?, let n?):
        cmp("FLB count", path, String(o.count), String(n.count))
        cmp("payload", path, o.summary, n.summary)
      default: break
      }
    }
    if let pa = a.preserved, let pb = b.preserved {
      for e in pb.subtracting(pa) {
        if preservedAdded.count < Self.listCap { preservedAdded.append(e) } else { preservedAddedOmitted += 1 }
      }
      for e in pa.subtracting(pb) {
        if preservedRemoved.count < Self.listCap { preservedRemoved.append(e) } else { preservedRemovedOmitted += 1 }
      }
    }
  }

  static func text(_ v: PayloadValue) -> String? {
    if case .string(let s) = v { return s }
    return nil
  }

  /// A unified-diff-like listing.
  public var text: String {
    var out = ""
    for d in damaged {
      out +=
        "! \(d.side) (\(escapeText(d.image))) does not decode cleanly: \(d.problems.count) error\(d.problems.count == 1 ? "" : "s")\n"
      for p in d.problems.prefix(20) {
        out += "!   \(p.kind) at \(escapeText(p.path))\(p.address.map { " (\($0))" } ?? ""): \(escapeText(p.message))\n"
      }
      if d.problems.count > 20 { out += "!   … \(d.problems.count - 20) more\n" }
    }
    for c in changes {
      switch (c.before, c.after) {
      case (nil, let a?): out += "+ \(c.what) \(escapeText(c.path)): \(escapeText(a))\n"
      case (let b?, nil): out += "- \(c.what) \(escapeText(c.path)): \(escapeText(b))\n"
      default:
        out +=
          "~ \(c.what) \(escapeText(c.path)): \(escapeText(c.before ?? "(none)")) -> \(escapeText(c.after ?? "(none)"))\n"
      }
    }
    for e in preservedRemoved { out += "- preserved \(e.phys) \(e.order)\n" }
    if preservedRemovedOmitted > 0 { out += "- … \(preservedRemovedOmitted) more preserved entries removed\n" }
    for e in preservedAdded { out += "+ preserved \(e.phys) \(e.order)\n" }
    if preservedAddedOmitted > 0 { out += "+ … \(preservedAddedOmitted) more preserved entries added\n" }
    return out.isEmpty ? "no differences\n" : out
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Renders a ``HandoverReport`` as an indented tree, fdtdump style.
public struct ReportText {
  /// How deep to print: 1 = components only, 2 = sessions, 3 = files and regions.
  public var depth: Int
  /// Print only components whose name matches (case-insensitive), plus the root line.
  public var only: String?

  public init(depth: Int = 3, only: String? = nil) {
    self.depth = depth
    self.only = only
  }

  func wanted(_ name: String) -> Bool {
    guard let only else { return true }
    return name.lowercased() == only.lowercased()
  }

  public func render(_ r: HandoverReport) -> String {
    var out = ""
    let s = r.source
    out += "handover \(s.path) (\(s.kind), \(s.pageSize / 1024) KiB pages, \(s.byteOrder.rawValue)-endian, "
    out += "\(s.segments) segment\(s.segments == 1 ? "" : "s"), \(formatBytes(s.capturedBytes)) captured)\n"
    guard let root = r.root else {
      out += "root FDT: not readable\n"
      return out
    }
    let at = root.address.map { " at \($0)" } ?? ""
    out += "root FDT\(at): \(root.compatible ?? "?") (\(root.totalSize) bytes)\n"
    var lines: [(String, [String])] = []
    if let m = r.memoryMap, wanted("preserved-memory-map") || wanted("memory-map") {
      var head = "preserved-memory-map  \(m.format) at \(m.address): \(m.entries) entr\(m.entries == 1 ? "y" : "ies"), "
      head += "\(m.pages) pages (\(formatBytes(m.bytes)))"
      var sub: [String] = []
      if depth >= 2 {
        let orders = m.perOrder.keys.compactMap(Int.init).sorted()
        sub.append("per order: " + orders.map { "\($0): \(m.perOrder[String($0)] ?? 0)" }.joined(separator: ", "))
        if let t = m.tableNodesByLevel {
          let levels = t.indices.reversed().filter { $0 > 0 }.map { "L\($0) \(t[$0])" }.joined(separator: ", ")
          sub.append("tables: \(levels); leaves \(m.leaves ?? 0) (\(m.emptyLeaves ?? 0) empty)")
        }
        if let c = m.chunks { sub.append("chunks: \(c)") }
      }
      lines.append((head, sub))
    }
    for c in r.components where wanted(c.name) {
      var head = "\(escapeText(c.name))  \(c.container)"
      if let compat = c.compatible { head += " \(escapeText(compat))" }
      head += " at \(c.address)"
      if let size = c.size { head += " (\(formatBytes(size)))" }
      head += ": " + (c.summary ?? c.status.rawValue)
      var sub: [String] = []
      if depth >= 2, c.name == "LUO", let luo = r.luo {
        sub.append("live update number \(luo.liveupdateNumber)")
        for sess in luo.sessions {
          sub.append("session \(escapeText(sess.name))  (\(sess.files.count) file\(sess.files.count == 1 ? "" : "s"))")
          if depth >= 3 {
            for f in sess.files {
              var line = "    token \(f.token)  \(escapeText(f.compatible))  data \(f.data)"
              if let m = f.memfd { line += "  [\(formatBytes(m.size)), \(m.folios) folios]" }
              if let summary = f.summary { line += "  [\(escapeText(summary))]" }
              sub.append(line)
            }
          }
        }
        for flb in luo.flbs {
          sub.append(
            "flb \(escapeText(flb.name))  data \(flb.data)  count \(flb.count)"
              + (flb.summary.map { "  [\(escapeText($0))]" } ?? ""))
        }
      }
      if depth >= 2, c.name == "memblock", let regions = r.memblock {
        for g in regions { sub.append("\(g.name)  \(g.start) +\(formatBytes(g.size))") }
      }
      lines.append((head, sub))
    }
    if let sc = r.scratch, wanted("scratch") {
      lines.append(("scratch  \(sc.count) area\(sc.count == 1 ? "" : "s")", depth >= 2 ? sc.map { "\($0)" } : []))
    }
    for (i, (head, sub)) in lines.enumerated() {
      let last = i == lines.count - 1
      out += (last ? "└─ " : "├─ ") + head + "\n"
      let indent = last ? "   " : "│  "
      for s in sub { out += indent + "   " + s + "\n" }
    }
    let real = r.problems.filter { $0.severity != .note }
    let notes = r.problems.count - real.count
    out += real.isEmpty ? "problems: none" : "problems: \(real.count)"
    out += notes > 0 ? " (\(notes) note\(notes == 1 ? "" : "s"): memory not captured)\n" : "\n"
    return out
  }
}

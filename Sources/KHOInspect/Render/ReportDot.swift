// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Renders the handover's object graph for Graphviz (`dot -Tsvg`):
/// root → memory map, root → sub-blobs → sessions → files.
public struct ReportDot {
  public init() {}

  static func quote(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  public func render(_ r: HandoverReport) -> String {
    var out = "digraph handover {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n"
    let rootLabel = "root FDT\\n\(r.root?.compatible ?? "?")" + (r.root?.address.map { "\\n\($0)" } ?? "")
    out += "  root [label=\(Self.quote(rootLabel))];\n"
    if let m = r.memoryMap {
      out += "  map [label=\(Self.quote("\(m.format)\\n\(m.address)\\n\(m.entries) entries"))];\n"
      out += "  root -> map [label=\"preserved-memory-map\"];\n"
    }
    for (i, c) in r.components.enumerated() {
      let id = "c\(i)"
      let label = "\(c.name)\\n\(c.compatible ?? c.container)\\n\(c.address)\\n\(c.status.rawValue)"
      out += "  \(id) [label=\(Self.quote(label))\(c.status == .failed ? ", color=red" : "")];\n"
      out += "  root -> \(id);\n"
      if c.name == "LUO", let luo = r.luo {
        for (si, s) in luo.sessions.enumerated() {
          let sid = "\(id)s\(si)"
          out += "  \(sid) [label=\(Self.quote("session \(s.name)\\n\(s.files.count) files"))];\n"
          out += "  \(id) -> \(sid);\n"
          for (fi, f) in s.files.enumerated() {
            let fid = "\(sid)f\(fi)"
            out += "  \(fid) [label=\(Self.quote("\(f.compatible)\\ntoken \(f.token)\\n\(f.data)")), shape=note];\n"
            out += "  \(sid) -> \(fid);\n"
          }
        }
      }
    }
    return out + "}\n"
  }
}

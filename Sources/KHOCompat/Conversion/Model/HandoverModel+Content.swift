// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats
import XArray

extension HandoverModel {
  /// What the handover says, one line per fact, independent of the
  /// versions and of where re-encoded structures lie: two handovers that
  /// convert into each other losslessly have equal lines.
  ///
  /// Memfd files are named `memfd` whatever their handler version, and
  /// their `data` is replaced by their state. Large preserved sets and
  /// xarrays are summarised by count and a digest; `details` lists every
  /// entry.
  public func contentLines(details: Bool = false) -> [String] {
    let g = geometry
    var out: [String] = []
    var d = _Digest()
    for e in preservedData { d.add("\(e.phys) \(e.order)") }
    out.append("preserved data: \(preservedData.count) entries, \(preservedData.pageCount) pages, digest \(d.hex)")
    if details { for e in preservedData { out.append("  preserved \(e.phys) order \(e.order)") } }
    for b in subBlobs {
      switch b.content {
      case .luo(let l):
        out.append(
          "\(b.name): luo, live update \(l.state.liveUpdateNumber), \(l.state.sessions.count) sessions, \(l.state.flbs.count) FLBs"
        )
        for (i, s) in l.state.sessions.enumerated() {
          out.append("  session[\(i)] '\(s.name)': \(s.files.count) files")
          for (j, f) in s.files.enumerated() {
            if let m = l.memfds[FileRef(session: i, file: j)] {
              out.append("    file[\(j)] memfd token 0x\(String(f.token, radix: 16)): \(Self.memfdLine(m.state, g))")
            } else {
              out.append("    file[\(j)] \(f.compatible) token 0x\(String(f.token, radix: 16)) data \(f.data)")
            }
          }
        }
        for f in l.state.flbs { out.append("  flb '\(f.name)' data 0x\(String(f.data, radix: 16)) count \(f.count)") }
      case .kexecMetadata(let m):
        out.append("\(b.name): kexec metadata v\(m.version), release '\(m.previousRelease)', count \(m.kexecCount)")
      case .xarray(let x):
        var xd = _Digest()
        x.array.forEachEntry { e in xd.add("\(e.index) \(e.order) \(e.element) \(e.marks.rawValue)") }
        out.append("\(b.name): xarray, \(x.array.count) entries, digest \(xd.hex)")
        if details || x.array.count <= 64 {
          x.array.forEachEntry { e in
            out.append(
              "  0x\(String(e.index, radix: 16)) order \(e.order) = 0x\(String(e.element, radix: 16)) marks \(e.marks.rawValue)"
            )
          }
        }
      case .opaque(let o):
        out.append(
          "\(b.name): opaque \(o.isFDT ? "FDT" : "raw") at \(o.address), \(o.size) bytes\(o.compatible.map { ", compatible '\($0)'" } ?? "")"
        )
      }
    }
    return out
  }

  static func memfdLine(_ s: MemfdState, _ g: PageGeometry) -> String {
    var d = _Digest()
    for f in s.folios { d.add("\(f.pfn) \(f.flags) \(f.index)") }
    return "pos \(s.pos) size \(s.size) seals 0x\(String(s.seals, radix: 16)) \(s.folios.count) folios digest \(d.hex)"
  }
}

/// FNV-1a over lines, for summaries that compare by value.
struct _Digest {
  var h: UInt64 = 0xcbf2_9ce4_8422_2325
  mutating func add(_ s: String) {
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    h = (h ^ 0x0a) &* 0x100_0000_01b3
  }
  mutating func add(bytes: Bytes) {
    bytes.withUnsafeBytes { for b in $0 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
  }
  var hex: String {
    let s = String(h, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
  }
}

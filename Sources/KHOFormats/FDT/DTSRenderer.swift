// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Prints an FDT as device-tree source, the way `dtc -I dtb -O dts` does.
///
/// With ``Options/annotateKHO`` (the default) every 8-byte property that
/// KHO stores as a native u64 gets a trailing comment with its value
/// (`/* 0x1021a8000 */`); the source stays valid and compiles back to the
/// same bytes. Without it the output matches dtc byte for byte.
public struct DTSRenderer {
  public struct Options: Sendable {
    /// Annotate KHO u64 properties with their value in this byte order.
    public var annotateKHO: ByteOrder?
    public init(annotateKHO: ByteOrder? = .little) { self.annotateKHO = annotateKHO }
  }

  /// Property names KHO and LUO write as raw native u64 values, and whether
  /// each holds a physical address (shown in hex) or a number.
  public static let khoU64Properties: [String: Bool] = [
    "preserved-memory-map": true, "fdt": true, "preserved-data": true,
    "blob-size": false, "liveupdate-number": false, "luo-abi-header": true,
    "luo-session-header": true, "luo-flb-header": true, "start": true, "size": false,
  ]

  public let options: Options

  public init(options: Options = Options()) { self.options = options }

  /// The DTS text of `fdt`.
  public func render(_ fdt: FDT) -> String {
    var out = "/dts-v1/;\n\n"
    for r in fdt.reservations {
      out += "/memreserve/\t0x\(hex16(r.address)) 0x\(hex16(r.size));\n"
    }
    node(fdt.root, depth: 0, into: &out)
    return out
  }

  private func hex16(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
  }

  private func node(_ n: FDT.Node, depth: Int, into out: inout String) {
    let indent = String(repeating: "\t", count: depth)
    out += indent + (depth == 0 ? "/" : n.name) + " {\n"
    for p in n.properties {
      out += indent + "\t" + p.name
      let value = p.value.array
      if !value.isEmpty { out += " = " + Self.formatValue(value) }
      out += ";"
      if let order = options.annotateKHO, value.count == 8,
        let isAddress = Self.khoU64Properties[p.name], let v = p.u64(order)
      {
        out += isAddress ? " /* \(PhysAddr(v)) */" : " /* \(v) */"
      }
      out += "\n"
    }
    for c in n.children {
      out += "\n"
      node(c, depth: depth + 1, into: &out)
    }
    out += indent + "};\n"
  }

  /// Formats a value as dtc guesses its type: string(s), cells or bytes.
  public static func formatValue(_ v: [UInt8]) -> String {
    switch guessType(v) {
    case .string:
      var s = "\""
      for b in v.dropLast() { s += escape(b) }
      return s + "\""
    case .cells:
      var cells: [String] = []
      var i = 0
      while i < v.count {
        let c = UInt32(v[i]) << 24 | UInt32(v[i + 1]) << 16 | UInt32(v[i + 2]) << 8 | UInt32(v[i + 3])
        let h = String(c, radix: 16)
        cells.append("0x" + (h.count < 2 ? "0" + h : h))
        i += 4
      }
      return "<" + cells.joined(separator: " ") + ">"
    case .bytes:
      return "["
        + v.map { b in b < 16 ? "0" + String(b, radix: 16) : String(b, radix: 16) }
        .joined(separator: " ") + "]"
    }
  }

  enum ValueType { case string, cells, bytes }

  static func isStringByte(_ b: UInt8) -> Bool {
    (0x20...0x7e).contains(b) || b == 0 || (0x07...0x0d).contains(b)
  }

  static func guessType(_ v: [UInt8]) -> ValueType {
    let nul = v.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
    if let last = v.last, last == 0, v.allSatisfy(isStringByte), nul <= v.count - nul {
      return .string
    }
    return v.count % 4 == 0 ? .cells : .bytes
  }

  static func escape(_ b: UInt8) -> String {
    switch b {
    case 0: return "\\0"
    case 0x07: return "\\a"
    case 0x08: return "\\b"
    case 0x09: return "\\t"
    case 0x0a: return "\\n"
    case 0x0b: return "\\v"
    case 0x0c: return "\\f"
    case 0x0d: return "\\r"
    case 0x5c: return "\\\\"
    case 0x22: return "\\\""
    case 0x20...0x7e: return String(UnicodeScalar(b))
    default:
      let h = String(b, radix: 16)
      return "\\x" + (h.count < 2 ? "0" + h : h)
    }
  }
}

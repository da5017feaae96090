// SPDX-License-Identifier: Apache-2.0
/// Text from a handover made safe for a terminal: control characters become
/// visible escapes, the way `ls -b` and dtc print them.
///
/// `\e`, `\n`, `\r`, `\t`, `\a`, `\b`, `\f`, `\v` by name; other C0 and C1
/// controls and DEL as `\xNN` (`\u{NNNN}` above 0xff); a backslash doubles.
///
///     escapeText("\u{1b}[31mEVIL\n")  // "\\e[31mEVIL\\n"
public func escapeText(_ s: String) -> String {
  var out = ""
  out.reserveCapacity(s.utf8.count)
  for u in s.unicodeScalars {
    switch u {
    case "\\": out += "\\\\"
    case "\u{1b}": out += "\\e"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case "\u{07}": out += "\\a"
    case "\u{08}": out += "\\b"
    case "\u{0c}": out += "\\f"
    case "\u{0b}": out += "\\v"
    default:
      let v = u.value
      if v < 0x20 || (0x7f...0x9f).contains(v) || v == 0x2028 || v == 0x2029 || (0x202a...0x202e).contains(v)
        || (0x2066...0x2069).contains(v)
      {
        out += v <= 0xff ? "\\x" + hex2(v) : "\\u{" + String(v, radix: 16) + "}"
      } else {
        out.unicodeScalars.append(u)
      }
    }
  }
  return out
}

/// Whether `s` holds a character ``escapeText(_:)`` would escape (a backslash aside).
public func needsEscaping(_ s: String) -> Bool {
  s.unicodeScalars.contains { u in
    u != "\\" && escapeText(String(u)) != String(u)
  }
}

private func hex2(_ v: UInt32) -> String {
  let s = String(v, radix: 16)
  return s.count == 1 ? "0" + s : s
}

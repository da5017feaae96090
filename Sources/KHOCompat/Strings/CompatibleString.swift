// SPDX-License-Identifier: Apache-2.0
/// A kernel compatible string, split into its `;`-joined parts.
///
/// Mainline kernels write one plain string per component (`kho-v4`,
/// `luo-v5`, `memfd-v1`). The June 2026 RFC (kho-abi.md §9.3) appends the
/// versions of the formats a component nests, each behind a `;`, in strict
/// alphabetical order: `kho-v4;radix-v1;vmalloc-v1`, `luo-v5;block-v1`,
/// `memfd-v2;vmalloc-v1`. The first part is the component's own version;
/// the rest are sub-components. Readers still compare the whole string for
/// exact equality (§9.1), so parsing never makes two strings equal that the
/// kernel would not; it only explains them.
///
///     let s = try CompatibleString(parsing: "kho-v4;radix-v1;vmalloc-v1")
///     s.base.family          // "kho"
///     s.base.version         // 4
///     s.subComponents.map(\.text)  // ["radix-v1", "vmalloc-v1"]
public struct CompatibleString: Hashable, Sendable, CustomStringConvertible {
  /// One `;`-separated part.
  public struct Part: Hashable, Sendable, Codable {
    /// The part as written.
    public var text: String
    /// The part without its `-vN` / `_vN` suffix (the whole part when it has none).
    public var family: String
    /// `N` from a trailing `-vN` or `_vN`, when present.
    public var version: Int?

    /// Splits `text` into family and version.
    public init(_ text: String) {
      self.text = text
      let (family, version) = Part.splitVersion(text)
      self.family = family
      self.version = version
    }

    static func splitVersion(_ text: String) -> (String, Int?) {
      let u = Array(text.utf8)
      var i = u.count
      while i > 0, u[i - 1] >= 0x30, u[i - 1] <= 0x39 { i -= 1 }
      let digits = u.count - i
      // "-v" or "_v" right before 1...9 digits, and something before that.
      guard digits > 0, digits <= 9, i >= 3, u[i - 1] == UInt8(ascii: "v"),
        u[i - 2] == UInt8(ascii: "-") || u[i - 2] == UInt8(ascii: "_")
      else { return (text, nil) }
      let family = String(decoding: u[..<(i - 2)], as: UTF8.self)
      let n = u[i...].reduce(0) { $0 * 10 + Int($1 - 0x30) }
      return (family, n)
    }
  }

  /// The longest string the parser accepts at all (the root compatible has no
  /// fixed field; handler and FLB fields are 48 bytes with the NUL).
  public static let absoluteMaxLength = 255
  /// The longest string that fits a 48-byte NUL-terminated field.
  public static let fieldMaxLength = 47

  /// The string exactly as written.
  public let rawValue: String
  /// Every part, base first.
  public let parts: [Part]

  /// The component's own version: the first part.
  public var base: Part { parts[0] }
  /// The nested formats' versions: every part after the first.
  public var subComponents: ArraySlice<Part> { parts.dropFirst() }
  /// Whether the string has sub-components.
  public var isComposite: Bool { parts.count > 1 }

  /// Parses and checks `text`.
  ///
  /// - Parameters:
  ///   - text: the compatible string, without its NUL.
  ///   - maxLength: the longest string its field can hold (default: the
  ///     parser's absolute cap; use ``fieldMaxLength`` for 48-byte fields).
  /// - Throws: ``CompatError`` for an empty string or part, a character
  ///   outside `[A-Za-z0-9._,+-]`, a string over `maxLength`, sub-components
  ///   out of alphabetical order, or a family repeated.
  public init(parsing text: String, maxLength: Int = CompatibleString.absoluteMaxLength)
    throws(CompatError)
  {
    let u = Array(text.utf8)
    guard !u.isEmpty else { throw CompatError(.empty, "compatible string is empty", location: text) }
    let cap = min(maxLength, CompatibleString.absoluteMaxLength)
    guard u.count <= cap else {
      throw CompatError(
        .tooLong, "\(u.count) bytes; the field holds at most \(cap) (plus NUL)",
        location: CompatibleString.shown(text))
    }
    for (i, c) in u.enumerated() where !CompatibleString.allowed(c) {
      throw CompatError(
        .badCharacter, "byte 0x\(String(c, radix: 16)) is not allowed in a compatible string",
        location: CompatibleString.shown(text), index: i)
    }
    var parts: [Part] = []
    var start = 0
    for i in 0...u.count where i == u.count || u[i] == UInt8(ascii: ";") {
      guard i > start else {
        throw CompatError(
          .emptyPart, "empty part between ';' separators", location: text, index: start)
      }
      parts.append(Part(String(decoding: u[start..<i], as: UTF8.self)))
      start = i + 1
    }
    var families: Set<String> = [parts[0].family]
    for k in 1..<parts.count {
      if k >= 2 {
        let prev = parts[k - 1].text, cur = parts[k].text
        if prev == cur {
          throw CompatError(
            .duplicateSubComponent, "sub-component '\(cur)' appears twice", location: text)
        }
        if !(Array(prev.utf8).lexicographicallyPrecedes(Array(cur.utf8))) {
          throw CompatError(
            .subComponentOrder,
            "sub-components must be in strict alphabetical order: '\(prev)' before '\(cur)'",
            location: text)
        }
      }
      guard families.insert(parts[k].family).inserted else {
        throw CompatError(
          .duplicateSubComponent, "format '\(parts[k].family)' appears more than once",
          location: text)
      }
    }
    self.rawValue = text
    self.parts = parts
  }

  public var description: String { rawValue }

  /// Builds the composite string for `base` nesting `subComponents`, sorted as the RFC requires.
  public static func composite(_ base: String, _ subComponents: [String]) throws(CompatError)
    -> CompatibleString
  {
    let joined = ([base] + subComponents.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
      .joined(separator: ";")
    return try CompatibleString(parsing: joined)
  }

  static func allowed(_ c: UInt8) -> Bool {
    switch c {
    case 0x30...0x39, 0x41...0x5a, 0x61...0x7a: return true
    case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ","),
      UInt8(ascii: "+"), UInt8(ascii: ";"):
      return true
    default: return false
    }
  }

  /// The string for an error message: printable, bounded.
  static func shown(_ s: String) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(80)
    var n = 0
    for c in s.unicodeScalars {
      if n == 64 {
        out.append(contentsOf: "…".utf8)
        break
      }
      n += 1
      if c.value >= 0x20 && c.value < 0x7f {
        out.append(UInt8(c.value))
        continue
      }
      out.append(contentsOf: "\\u{".utf8)
      var shift = (32 - c.value.leadingZeroBitCount + 3) / 4 * 4
      repeat {
        shift -= 4
        let d = UInt8((c.value >> UInt32(Swift.max(shift, 0))) & 0xf)
        out.append(d < 10 ? 0x30 + d : 0x57 + d)
      } while shift > 0
      out.append(UInt8(ascii: "}"))
    }
    return String(decoding: out, as: UTF8.self)
  }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation

/// JSON plumbing shared by manifests, policies, plans and the matrix.
enum CompatJSON {
  /// Pretty, sorted-key JSON with a trailing newline.
  static func encode<T: Encodable>(_ value: T) -> [UInt8] {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    // Encoding plain value types with String keys cannot fail; an empty
    // output would show up in every test that reads it back.
    guard let d = try? e.encode(value) else { return [] }
    return Array(d) + [0x0a]
  }

  /// A `DecodingError` (or any error from JSONDecoder) as a located ``CompatError``.
  static func error(_ error: any Error, what: String) -> CompatError {
    if let e = error as? CompatError { return e }
    guard let e = error as? DecodingError else {
      return CompatError(.invalidJSON, "\(what) is not valid JSON")
    }
    func path(_ c: [any CodingKey]) -> String {
      var s = ""
      for k in c {
        if let i = k.intValue { s += "[\(i)]" } else { s += s.isEmpty ? k.stringValue : "." + k.stringValue }
      }
      return s
    }
    switch e {
    case .dataCorrupted(let c):
      if c.codingPath.isEmpty { return CompatError(.invalidJSON, "\(what) is not valid JSON") }
      return CompatError(.invalidJSON, c.debugDescription, location: path(c.codingPath))
    case .keyNotFound(let k, let c):
      return CompatError(.invalidJSON, "required key '\(k.stringValue)' is missing", location: path(c.codingPath))
    case .typeMismatch(let t, let c):
      return CompatError(.invalidJSON, "expected \(t)", location: path(c.codingPath))
    case .valueNotFound(let t, let c):
      return CompatError(.invalidJSON, "expected \(t), found null", location: path(c.codingPath))
    @unknown default:
      return CompatError(.invalidJSON, "\(what) does not match the schema")
    }
  }
}

/// Rules for identifiers (component and profile names) and version entries.
enum CompatNames {
  static let maxName = 64

  /// A component or profile name: 1…64 bytes of `[A-Za-z0-9._,+-]`.
  static func checkName(_ s: String, at: String) throws(CompatError) {
    let u = Array(s.utf8)
    guard !u.isEmpty, u.count <= maxName else {
      throw CompatError(.badName, "a name must be 1…\(maxName) bytes", location: at)
    }
    for (i, c) in u.enumerated() where !CompatibleString.allowed(c) || c == UInt8(ascii: ";") {
      throw CompatError(.badName, "byte 0x\(String(c, radix: 16)) is not allowed in a name", location: at, index: i)
    }
  }

  /// A version entry: a registry name or a well-formed compatible string.
  static func checkVersion(_ s: String, at: String, registry: VersionRegistry) throws(CompatError) {
    if registry.version(named: s) != nil { return }
    do { _ = try CompatibleString(parsing: s) } catch {
      var e = error
      e.location = at
      e.message += " in '\(CompatibleString.shown(s))'"
      throw e
    }
  }
}

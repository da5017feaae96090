import Foundation
import Testing

/// Pins the `inspect --format json` schema to Specs/khodump-json.md.
@Suite("JSON schema")
struct ReportSchemaTests {
  static let spec = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Specs/khodump-json.md")

  /// Documented key paths: (path without `?`, required).
  static func documented() throws -> [(String, Bool)] {
    let text = try String(contentsOf: spec, encoding: .utf8)
    guard let start = text.range(of: "```keys\n"), let end = text.range(of: "```", range: start.upperBound..<text.endIndex)
    else { return [] }
    return text[start.upperBound..<end.lowerBound].split(separator: "\n").map { line in
      (line.replacingOccurrences(of: "?", with: ""), !line.contains("?"))
    }
  }

  /// Key paths of a JSON document, with page orders folded to `<order>`.
  static func paths(_ o: Any, _ prefix: String = "", into out: inout Set<String>) {
    if let d = o as? [String: Any] {
      for (k, v) in d {
        let key = prefix.hasSuffix("per_order") ? "<order>" : k
        paths(v, prefix.isEmpty ? key : prefix + "." + key, into: &out)
      }
    } else if let a = o as? [Any] {
      if a.isEmpty { out.insert(prefix + "[]") }
      for v in a { paths(v, prefix + "[]", into: &out) }
    } else {
      out.insert(prefix)
    }
  }

  @Test("inspect JSON emits only documented keys, and every required one")
  func pinned() throws {
    let images = Self.spec.deletingLastPathComponent().appendingPathComponent("vectors/images")
    var emitted = Set<String>()
    for f in ["demo.kho", "session-chain-cycle.kho"] {
      let r = try KhodumpCLI.run(["inspect", "--format", "json", images.appendingPathComponent(f).path])
      let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
      Self.paths(doc, into: &emitted)
    }
    let doc = try Self.documented()
    #expect(doc.count > 40)
    let known = Set(doc.map(\.0))
    // Empty arrays show as "x[]"; they are documented through their elements.
    let undocumented = emitted.filter { p in !known.contains(p) && !known.contains { $0.hasPrefix(p) } }
    #expect(undocumented.isEmpty, "undocumented keys: \(undocumented.sorted())")
    let missing = doc.filter { $0.1 && !emitted.contains($0.0) }.map(\.0)
    #expect(missing.isEmpty, "documented but never emitted: \(missing)")
  }
}

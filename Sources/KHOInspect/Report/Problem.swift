// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// One thing wrong (or not captured) in a handover, located.
public struct Problem: Codable, Hashable, Sendable, CustomStringConvertible {
  /// How bad it is.
  public enum Severity: String, Codable, Hashable, Sendable, Comparable {
    /// The next kernel would reject or lose state because of this.
    case error
    /// Suspicious, or a check the toolkit could not complete.
    case warning
    /// Not a fault of the data: e.g. memory the dump did not capture.
    case note

    public static func < (a: Severity, b: Severity) -> Bool {
      let rank: [Severity: Int] = [.error: 0, .warning: 1, .note: 2]
      return rank[a, default: 3] < rank[b, default: 3]
    }
  }

  public var severity: Severity
  /// A stable machine-readable kind: a `DecodeError.Kind` raw value or a
  /// cross-check name such as `notPreserved`.
  public var kind: String
  public var path: String
  public var address: PhysAddr?
  public var message: String

  public init(_ severity: Severity, kind: String, path: DecodePath, address: PhysAddr? = nil, message: String) {
    self.severity = severity
    self.kind = kind
    self.path = path.description
    self.address = address
    self.message = message
  }

  /// A decode error as a problem: "not captured" is a note (the dump lacks
  /// the memory; the data may be fine), everything else an error.
  public init(_ e: DecodeError) {
    let severity: Severity = e.kind == .notCaptured || e.kind == .crossesHole ? .note : .error
    self.init(severity, kind: e.kind.rawValue, path: e.path, address: e.address, message: e.message)
  }

  public var description: String {
    var s = "\(severity.rawValue): \(kind) at \(path)"
    if let address { s += " (\(address))" }
    return s + ": " + message
  }
}

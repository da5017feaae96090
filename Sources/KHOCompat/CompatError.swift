// SPDX-License-Identifier: Apache-2.0
/// A problem with a compatible string, a manifest, a policy or a negotiation request.
///
/// Binary inputs (the `.liveupdate_versions` section, ELF headers) report
/// `DecodeError` like every other decoder; `CompatError` covers text and JSON
/// inputs, where the location is a JSON path (`components.luo.write[1]`) or a
/// character index in a string.
public struct CompatError: Error, Hashable, Sendable, Codable, CustomStringConvertible {
  /// What went wrong, as a value a program can switch on.
  public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
    /// A compatible string is empty.
    case empty
    /// A `;`-separated part of a composite string is empty.
    case emptyPart
    /// A character outside the allowed set (letters, digits, `-_.,+`).
    case badCharacter
    /// The string is longer than its field allows.
    case tooLong
    /// Sub-components after the first part are not in strict alphabetical order.
    case subComponentOrder
    /// The same sub-component (or the same family twice) appears more than once.
    case duplicateSubComponent
    /// The input is not valid JSON or does not match the schema.
    case invalidJSON
    /// The `schema` field names a version this toolkit does not read.
    case unknownSchema
    /// A string is listed under a component the registry files it under another.
    case componentMismatch
    /// A profile is named that a manifest does not define.
    case unknownProfile
    /// A list or string is longer than the documented bound.
    case limitExceeded
    /// Two entries that must be distinct are not.
    case duplicate
    /// A policy contradicts itself (a component both mandatory and optional).
    case conflictingPolicy
    /// A component or version name is not a valid identifier.
    case badName
    /// A profile or requirement names a version no component lists.
    case undeclared
  }

  /// What went wrong.
  public var kind: Kind
  /// Where: a JSON path, or the string being parsed.
  public var location: String
  /// The character (UTF-8 byte) index in the string, when the error is in one.
  public var index: Int?
  /// A sentence for a person.
  public var message: String

  public init(_ kind: Kind, _ message: String, location: String = "", index: Int? = nil) {
    self.kind = kind
    self.message = message
    self.location = location
    self.index = index
  }

  /// The same error, reported at `location` unless it already carries one.
  public func at(_ location: String) -> CompatError {
    var e = self
    if e.location.isEmpty { e.location = location }
    return e
  }

  public var description: String {
    var s = kind.rawValue
    if !location.isEmpty { s += " at \(location)" }
    if let index { s += " (index \(index))" }
    return s + ": " + message
  }
}

// SPDX-License-Identifier: Apache-2.0
/// Where in a handover a decoder was when something went wrong.
///
/// A path names the object the way `khodump` prints it: the KHO root is `/`,
/// sub-blobs are their node names, arrays and chains use `[index]`:
/// `/LUO/sessions[53]/files[7]`.
public struct DecodePath: Hashable, Sendable, Codable, CustomStringConvertible,
  ExpressibleByStringLiteral
{
  /// The path as text.
  public private(set) var rawValue: String

  public init(_ rawValue: String) { self.rawValue = rawValue.isEmpty ? "/" : rawValue }
  public init(stringLiteral value: String) { self.init(value) }

  /// The root of a handover.
  public static let root = DecodePath("/")

  /// This path extended by a named child: `/LUO` + `sessions` = `/LUO/sessions`.
  public func appending(_ component: String) -> DecodePath {
    DecodePath(rawValue == "/" ? "/" + component : rawValue + "/" + component)
  }

  /// This path indexed: `/LUO/sessions` + 3 = `/LUO/sessions[3]`.
  public func index(_ i: Int) -> DecodePath { DecodePath(rawValue + "[\(i)]") }

  /// This path extended by a named, indexed child.
  public func appending(_ component: String, index i: Int) -> DecodePath {
    appending(component).index(i)
  }

  public var description: String { rawValue }

  public init(from decoder: any Decoder) throws {
    self.init(try decoder.singleValueContainer().decode(String.self))
  }
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(rawValue)
  }
}

/// A problem found while decoding untrusted handover data.
///
/// Every decoder in the toolkit reports failures as a `DecodeError`: a
/// ``Kind`` that a program can switch on, the ``path`` of the object being
/// decoded, the physical ``address`` (or byte ``offset`` in a standalone
/// blob) where the bad bytes are, and a sentence for a person.
///
///     do { _ = try RadixTree.decode(from: memory, root: root) }
///     catch { print(error) }  // cycle at /kho/preserved-memory-map[5] (0x1234000): …
public struct DecodeError: Error, Hashable, Sendable, Codable, CustomStringConvertible {
  /// What went wrong, as a value a program can switch on.
  public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
    /// The input ends before the structure it declares.
    case truncated
    /// An address lies outside every captured range of memory.
    case notCaptured
    /// A range starts in captured memory but runs into a hole.
    case crossesHole
    /// A magic number or signature is wrong.
    case badMagic
    /// A version number or compatible string is not one the decoder knows.
    case unknownVersion
    /// An address or offset is not aligned as the format requires.
    case misaligned
    /// A value, index or offset is outside what the format allows.
    case outOfRange
    /// A count is zero where it may not be, or exceeds its container.
    case badCount
    /// A chain or tree reaches the same object twice.
    case cycle
    /// A chain or tree is longer or deeper than the documented bound.
    case limitExceeded
    /// A string is unterminated, too long or not valid text.
    case badString
    /// The input itself (a file, a directory) could not be opened or read.
    case unreadable
    /// A required field, property or node is missing.
    case missing
    /// Two objects that must be distinct are not.
    case duplicate
    /// Two parts of the data disagree with each other.
    case inconsistent
    /// The data is valid but uses something this toolkit does not decode.
    case unsupported
  }

  /// What went wrong.
  public var kind: Kind
  /// The object being decoded.
  public var path: DecodePath
  /// The physical address of the offending bytes, when known.
  public var address: PhysAddr?
  /// The byte offset in a standalone blob (a DTB, a file), when known.
  public var offset: Int?
  /// A sentence for a person.
  public var message: String

  public init(
    _ kind: Kind, _ message: String, path: DecodePath = .root,
    address: PhysAddr? = nil, offset: Int? = nil
  ) {
    self.kind = kind
    self.message = message
    self.path = path
    self.address = address
    self.offset = offset
  }

  /// The same error, reported at `path` unless it already carries a deeper one.
  public func at(_ path: DecodePath) -> DecodeError {
    var e = self
    if e.path == .root { e.path = path }
    return e
  }

  public var description: String {
    var s = "\(kind.rawValue) at \(path)"
    if let address { s += " (\(address))" }
    if let offset { s += " (offset 0x\(String(offset, radix: 16)))" }
    return s + ": " + message
  }
}

/// A request an encoder cannot satisfy.
///
/// Encoders refuse, rather than silently drop or truncate, anything the
/// target format cannot express, and say exactly which part and why.
public struct EncodeError: Error, Hashable, Sendable, CustomStringConvertible {
  /// Why the encoder refused.
  public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
    /// The page allocator has no free page left in its ranges.
    case outOfMemory
    /// The target version cannot express a part of the model.
    case notRepresentable
    /// A value is outside what the format can store.
    case outOfRange
    /// A string is too long for its field or contains a NUL.
    case badString
    /// Two things that must be unique are not.
    case duplicate
    /// A library the encoder relies on reported a failure.
    case library
  }

  public var kind: Kind
  public var path: DecodePath
  public var message: String

  public init(_ kind: Kind, _ message: String, path: DecodePath = .root) {
    self.kind = kind
    self.message = message
    self.path = path
  }

  public var description: String { "\(kind.rawValue) at \(path): \(message)" }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A parsed, validated flattened device tree blob (DTB).
///
/// `FDT` checks the whole blob once, in one pass over its structure block,
/// and builds an index of nodes and properties; every later query is an
/// array access, never a re-scan. The bytes are not copied.
///
///     let fdt = try FDT(parsing: Bytes(data))
///     fdt.root.property("compatible")?.string      // "kho-v4"
///     for child in fdt.root.children { print(child.name) }
///
/// Validation (each failure is a `DecodeError` with the byte offset):
/// magic, version 16 or 17, `totalsize` against the buffer, block offsets
/// and sizes inside `totalsize`, every token inside the structure block,
/// names and strings NUL-terminated inside their blocks, properties before
/// sub-nodes, nesting at most ``maxDepth``, exactly one root, nothing but
/// the end of the block after `FDT_END`.
public struct FDT: Sendable {
  /// The deepest nesting accepted (the root is depth 0).
  public static let maxDepth = 64

  /// The header.
  public let header: FDTHeader
  /// The memory-reservation entries.
  public let reservations: [FDTReservation]
  /// The index: one reference, so node and property handles copy cheaply.
  @usableFromInline let _index: _FDTIndex

  /// The blob, `totalsize` bytes long.
  public var bytes: Bytes { _index.bytes }

  /// Parses and validates a DTB.
  ///
  /// - Parameters:
  ///   - bytes: the blob.
  ///   - allowTrailingBytes: accept a buffer longer than `totalsize` (an FDT
  ///     read from a whole page); otherwise the sizes must agree.
  public init(parsing bytes: Bytes, allowTrailingBytes: Bool = false) throws(DecodeError) {
    let header = try FDTHeader(reading: bytes)
    let total = Int(header.totalSize)
    guard total >= FDTHeader.size else {
      throw DecodeError(.outOfRange, "totalsize \(total) is smaller than the header", offset: 4)
    }
    guard total <= bytes.count else {
      throw DecodeError(
        .truncated, "totalsize \(total) exceeds the \(bytes.count) bytes available", offset: 4)
    }
    guard allowTrailingBytes || total == bytes.count else {
      throw DecodeError(
        .inconsistent, "totalsize \(total) is smaller than the \(bytes.count)-byte buffer",
        offset: 4)
    }
    guard let blob = bytes.extracting(0, count: total) else {
      throw DecodeError(.truncated, "cannot take \(total) bytes", offset: 4)
    }
    self.header = header
    var parser = _FDTParser(blob, header)
    try parser.run()
    self.reservations = parser.reservations
    self._index = _FDTIndex(bytes: blob, nodes: parser.nodes, props: parser.props, names: parser.names)
  }

  /// Parses a DTB held in an array.
  public init(parsing array: [UInt8], allowTrailingBytes: Bool = false) throws(DecodeError) {
    try self.init(parsing: Bytes(array), allowTrailingBytes: allowTrailingBytes)
  }

  /// The root node.
  public var root: Node { Node(_index, 0) }

  /// Every node in document order (depth first, as written).
  public var nodes: NodeList { NodeList(index: _index, range: 0..<_index.nodes.count) }

  /// The number of nodes.
  public var nodeCount: Int { _index.nodes.count }
  /// The number of properties in all nodes.
  public var propertyCount: Int { _index.props.count }

  /// The node at an absolute path such as `/LUO` or `/a/b`, if present.
  public func node(at path: String) -> Node? {
    var n = root
    for part in path.split(separator: "/") {
      guard let c = n.child(String(part)) else { return nil }
      n = c
    }
    return n
  }
}

// MARK: - Index records

/// The parsed index of one blob, shared by every handle into it.
@usableFromInline
final class _FDTIndex: Sendable {
  let bytes: Bytes
  @usableFromInline let nodes: [_NodeRecord]
  @usableFromInline let props: [_PropRecord]
  /// Property names, indexed by `_PropRecord.name`.
  @usableFromInline let names: [String]

  init(bytes: Bytes, nodes: [_NodeRecord], props: [_PropRecord], names: [String]) {
    self.bytes = bytes
    self.nodes = nodes
    self.props = props
    self.names = names
  }
}

@usableFromInline
struct _NodeRecord: Sendable {
  @usableFromInline var nameOffset: Int32
  @usableFromInline var nameLength: Int32
  @usableFromInline var parent: Int32
  @usableFromInline var depth: Int32
  @usableFromInline var firstProp: Int32
  @usableFromInline var propCount: Int32
  @usableFromInline var firstChild: Int32 = -1
  @usableFromInline var nextSibling: Int32 = -1
  @usableFromInline var childCount: Int32 = 0
  /// Offset of the node's FDT_BEGIN_NODE token in the blob.
  @usableFromInline var tokenOffset: Int32
}

@usableFromInline
struct _PropRecord: Sendable {
  @usableFromInline var name: Int32
  @usableFromInline var valueOffset: Int32
  @usableFromInline var valueLength: Int32
}

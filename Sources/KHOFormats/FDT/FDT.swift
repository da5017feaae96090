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
/// Validation (each failure is a ``DecodeError`` with the byte offset):
/// magic, version 16 or 17, `totalsize` against the buffer, block offsets
/// and sizes inside `totalsize`, every token inside the structure block,
/// names and strings NUL-terminated inside their blocks, properties before
/// sub-nodes, nesting at most ``maxDepth``, exactly one root, nothing but
/// the end of the block after `FDT_END`.
public struct FDT: Sendable {
  /// The deepest nesting accepted (the root is depth 0).
  public static let maxDepth = 64

  /// The blob, `totalsize` bytes long.
  public let bytes: Bytes
  /// The header.
  public let header: FDTHeader
  /// The memory-reservation entries.
  public let reservations: [FDTReservation]

  @usableFromInline var _nodes: [_NodeRecord]
  @usableFromInline var _props: [_PropRecord]
  /// Property names, indexed by `_PropRecord.name`.
  @usableFromInline var _names: [String]

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
    self.bytes = blob
    self.header = header
    var parser = _FDTParser(blob, header)
    try parser.run()
    self.reservations = parser.reservations
    self._nodes = parser.nodes
    self._props = parser.props
    self._names = parser.names
  }

  /// Parses a DTB held in an array.
  public init(parsing array: [UInt8], allowTrailingBytes: Bool = false) throws(DecodeError) {
    try self.init(parsing: Bytes(array), allowTrailingBytes: allowTrailingBytes)
  }

  /// The root node.
  public var root: Node { Node(fdt: self, index: 0) }

  /// Every node in document order (depth first, as written).
  public var nodes: [Node] { (0..<_nodes.count).map { Node(fdt: self, index: $0) } }

  /// The number of nodes.
  public var nodeCount: Int { _nodes.count }
  /// The number of properties in all nodes.
  public var propertyCount: Int { _props.count }

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

@usableFromInline
struct _NodeRecord: Sendable {
  var nameOffset: Int32
  var nameLength: Int32
  var parent: Int32
  var depth: Int32
  var firstProp: Int32
  var propCount: Int32
  var firstChild: Int32 = -1
  var nextSibling: Int32 = -1
  var childCount: Int32 = 0
  /// Offset of the node's FDT_BEGIN_NODE token in the blob.
  var tokenOffset: Int32
}

@usableFromInline
struct _PropRecord: Sendable {
  var name: Int32
  var valueOffset: Int32
  var valueLength: Int32
}

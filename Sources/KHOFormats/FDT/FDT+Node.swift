// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension FDT {
  /// A node of a parsed FDT: a cheap handle into the tree's index.
  public struct Node: Sendable {
    @usableFromInline let _index: _FDTIndex
    /// The node's position in document order (0 = root).
    public let index: Int

    @inlinable init(_ i: _FDTIndex, _ index: Int) {
      self._index = i
      self.index = index
    }

    @inlinable var record: _NodeRecord { _index.nodes[index] }

    /// The node name as written (`""` for the root, `name@unit` kept whole).
    public var name: String {
      let r = record
      return _index.bytes.withUnsafeBytes { raw in
        let s = Int(r.nameOffset)
        return String(decoding: UnsafeRawBufferPointer(rebasing: raw[s..<s + Int(r.nameLength)]), as: UTF8.self)
      }
    }

    /// The nesting depth; the root is 0.
    public var depth: Int { Int(record.depth) }

    /// The byte offset of the node's `FDT_BEGIN_NODE` token.
    public var offset: Int { Int(record.tokenOffset) }

    /// The parent node, `nil` for the root.
    public var parent: Node? {
      let p = record.parent
      return p < 0 ? nil : Node(_index, Int(p))
    }

    /// The absolute path, `/` for the root.
    public var path: String {
      var parts: [String] = []
      var n: Node? = self
      while let cur = n, cur.index != 0 {
        parts.append(cur.name)
        n = cur.parent
      }
      return "/" + parts.reversed().joined(separator: "/")
    }

    /// The properties in the order they were written.
    @inlinable public var properties: PropertyList {
      let r = record
      return PropertyList(index: _index, range: Int(r.firstProp)..<Int(r.firstProp + r.propCount))
    }

    /// The number of properties.
    public var propertyCount: Int { Int(record.propCount) }

    /// The sub-nodes in the order they were written.
    public var children: [Node] {
      var out: [Node] = []
      out.reserveCapacity(Int(record.childCount))
      var c = record.firstChild
      while c >= 0 {
        out.append(Node(_index, Int(c)))
        c = _index.nodes[Int(c)].nextSibling
      }
      return out
    }

    /// The first property called `name`.
    public func property(_ name: String) -> Property? {
      properties.first { $0.name == name }
    }

    /// The first sub-node called `name`.
    public func child(_ name: String) -> Node? {
      var c = record.firstChild
      while c >= 0 {
        let n = Node(_index, Int(c))
        if n.name == name { return n }
        c = _index.nodes[Int(c)].nextSibling
      }
      return nil
    }
  }

  /// Nodes in document order, without copying.
  public struct NodeList: RandomAccessCollection, Sendable {
    @usableFromInline let index: _FDTIndex
    @usableFromInline let range: Range<Int>
    @inlinable init(index: _FDTIndex, range: Range<Int>) {
      self.index = index
      self.range = range
    }
    @inlinable public var startIndex: Int { range.lowerBound }
    @inlinable public var endIndex: Int { range.upperBound }
    @inlinable public subscript(i: Int) -> Node { Node(index, i) }
  }

  /// The properties of one node, without copying.
  public struct PropertyList: RandomAccessCollection, Sendable {
    @usableFromInline let index: _FDTIndex
    @usableFromInline let range: Range<Int>
    @inlinable init(index: _FDTIndex, range: Range<Int>) {
      self.index = index
      self.range = range
    }
    @inlinable public var startIndex: Int { range.lowerBound }
    @inlinable public var endIndex: Int { range.upperBound }
    @inlinable public subscript(i: Int) -> Property { Property(index, i) }
  }

  /// A property of a parsed FDT.
  public struct Property: Sendable {
    @usableFromInline let _index: _FDTIndex
    /// The property's position among all properties of the tree.
    public let index: Int

    @inlinable init(_ i: _FDTIndex, _ index: Int) {
      self._index = i
      self.index = index
    }

    @inlinable var record: _PropRecord { _index.props[index] }

    /// The property name.
    @inlinable public var name: String { _index.names[Int(record.name)] }

    /// The value bytes (a view into the blob).
    public var value: Bytes {
      let r = record
      return _index.bytes.extracting(Int(r.valueOffset), count: Int(r.valueLength)) ?? Bytes()
    }

    /// The value length in bytes.
    @inlinable public var length: Int { Int(record.valueLength) }

    /// The byte offset of the value in the blob.
    public var valueOffset: Int { Int(record.valueOffset) }

    /// The value as one string, if it is exactly one NUL-terminated UTF-8 string.
    public var string: String? {
      let s = strings
      return s?.count == 1 ? s?.first : nil
    }

    /// The value as a list of NUL-terminated strings (the DT string-list form).
    public var strings: [String]? {
      let raw = value.array
      guard let last = raw.last, last == 0 else { return nil }
      var out: [String] = []
      for part in raw.dropLast().split(separator: 0, omittingEmptySubsequences: false) {
        guard !part.isEmpty, let s = String(validating: part, as: UTF8.self) else { return nil }
        out.append(s)
      }
      return out
    }

    /// The value as one big-endian u32 cell, if it is 4 bytes long.
    public var u32: UInt32? {
      guard length == 4 else { return nil }
      return try? ByteReader(value, order: .big).integer(at: 0)
    }

    /// The value as big-endian u32 cells, if its length is a multiple of 4.
    public var cells: [UInt32]? {
      guard length % 4 == 0 else { return nil }
      let r = ByteReader(value, order: .big)
      return (0..<length / 4).compactMap { try? r.integer(at: $0 * 4) }
    }

    /// The value as a KHO u64: a raw 8-byte copy in the writer's byte order.
    ///
    /// KHO stores u64 properties with `fdt_property(fdt, name, &v, 8)`, not
    /// as big-endian cells, so the byte order is the kernel's own.
    public func u64(_ order: ByteOrder) -> UInt64? {
      guard length == 8 else { return nil }
      return try? ByteReader(value, order: order).integer(at: 0)
    }
  }
}

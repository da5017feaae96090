import KHOCore

extension FDT {
  /// A node of a parsed FDT: a cheap handle into the tree's index.
  public struct Node: Sendable {
    /// The tree this node belongs to.
    public let fdt: FDT
    /// The node's position in document order (0 = root).
    public let index: Int

    @inlinable var record: _NodeRecord { fdt._nodes[index] }

    /// The node name as written (`""` for the root, `name@unit` kept whole).
    public var name: String {
      let r = record
      return fdt.bytes.withUnsafeBytes { raw in
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
      return p < 0 ? nil : Node(fdt: fdt, index: Int(p))
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
    public var properties: [Property] {
      let r = record
      return (0..<Int(r.propCount)).map { Property(fdt: fdt, index: Int(r.firstProp) + $0) }
    }

    /// The number of properties.
    public var propertyCount: Int { Int(record.propCount) }

    /// The sub-nodes in the order they were written.
    public var children: [Node] {
      var out: [Node] = []
      out.reserveCapacity(Int(record.childCount))
      var c = record.firstChild
      while c >= 0 {
        out.append(Node(fdt: fdt, index: Int(c)))
        c = fdt._nodes[Int(c)].nextSibling
      }
      return out
    }

    /// The first property called `name`.
    public func property(_ name: String) -> Property? {
      let r = record
      for i in Int(r.firstProp)..<Int(r.firstProp + r.propCount)
      where fdt._names[Int(fdt._props[i].name)] == name {
        return Property(fdt: fdt, index: i)
      }
      return nil
    }

    /// The first sub-node called `name`.
    public func child(_ name: String) -> Node? {
      var c = record.firstChild
      while c >= 0 {
        let n = Node(fdt: fdt, index: Int(c))
        if n.name == name { return n }
        c = fdt._nodes[Int(c)].nextSibling
      }
      return nil
    }
  }

  /// A property of a parsed FDT.
  public struct Property: Sendable {
    public let fdt: FDT
    /// The property's position among all properties of the tree.
    public let index: Int

    @inlinable var record: _PropRecord { fdt._props[index] }

    /// The property name.
    public var name: String { fdt._names[Int(record.name)] }

    /// The value bytes (a view into the blob).
    public var value: Bytes {
      let r = record
      return fdt.bytes.extracting(Int(r.valueOffset), count: Int(r.valueLength)) ?? Bytes()
    }

    /// The value length in bytes.
    public var length: Int { Int(record.valueLength) }

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

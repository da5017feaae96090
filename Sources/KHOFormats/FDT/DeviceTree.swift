// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// An editable device-tree node: the model that ``FDTBuilder`` writes and
/// ``FDT/tree()`` produces.
public struct DeviceTreeNode: Hashable, Sendable {
  /// The node name (`""` for the root).
  public var name: String
  /// Properties in the order they are written.
  public var properties: [DeviceTreeProperty]
  /// Sub-nodes in the order they are written.
  public var children: [DeviceTreeNode]

  public init(
    _ name: String, properties: [DeviceTreeProperty] = [], children: [DeviceTreeNode] = []
  ) {
    self.name = name
    self.properties = properties
    self.children = children
  }

  /// The first property called `name`.
  public func property(_ name: String) -> DeviceTreeProperty? {
    properties.first { $0.name == name }
  }

  /// The first sub-node called `name`.
  public func child(_ name: String) -> DeviceTreeNode? {
    children.first { $0.name == name }
  }

  /// The number of nodes in this subtree, this one included.
  public var subtreeNodeCount: Int { 1 + children.reduce(0) { $0 + $1.subtreeNodeCount } }
}

/// A device-tree property: a name and raw value bytes.
public struct DeviceTreeProperty: Hashable, Sendable {
  public var name: String
  public var value: [UInt8]

  public init(_ name: String, _ value: [UInt8]) {
    self.name = name
    self.value = value
  }

  /// A string property (written with its NUL).
  public static func string(_ name: String, _ s: String) -> DeviceTreeProperty {
    DeviceTreeProperty(name, Array(s.utf8) + [0])
  }

  /// A property holding one big-endian u32 cell.
  public static func u32(_ name: String, _ v: UInt32) -> DeviceTreeProperty {
    withUnsafeBytes(of: v.bigEndian) { DeviceTreeProperty(name, Array($0)) }
  }

  /// A KHO u64 property: a raw 8-byte copy in the kernel's byte order.
  public static func u64(_ name: String, _ v: UInt64, _ order: ByteOrder) -> DeviceTreeProperty {
    let raw = order == .little ? v.littleEndian : v.bigEndian
    return withUnsafeBytes(of: raw) { DeviceTreeProperty(name, Array($0)) }
  }

  /// An empty (boolean) property.
  public static func empty(_ name: String) -> DeviceTreeProperty {
    DeviceTreeProperty(name, [])
  }
}

extension FDT {
  /// The whole tree as an editable value.
  public func tree() -> DeviceTreeNode { Self.model(of: root) }

  private static func model(of node: Node) -> DeviceTreeNode {
    DeviceTreeNode(
      node.name,
      properties: node.properties.map { DeviceTreeProperty($0.name, $0.value.array) },
      children: node.children.map { model(of: $0) })
  }
}

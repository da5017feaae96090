// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The JSON form of an FDT that `khodump fdt --format json` prints.
///
/// Each node has its `name`, `path`, `properties` and `children`; each
/// property its `name`, `length`, the raw value as `hex`, and the readings
/// that apply: `string`/`strings` for text, `cells` for a multiple of four
/// bytes, `u64` (hex, in the kernel's byte order) for an 8-byte value.
public struct FDTJSONNode: Codable, Hashable, Sendable {
  public var name: String
  public var path: String
  public var properties: [FDTJSONProperty]
  public var children: [FDTJSONNode]

  public init(_ node: FDT.Node, order: ByteOrder) {
    name = node.name
    path = node.path
    properties = node.properties.map { FDTJSONProperty($0, order: order) }
    children = node.children.map { FDTJSONNode($0, order: order) }
  }
}

public struct FDTJSONProperty: Codable, Hashable, Sendable {
  public var name: String
  public var length: Int
  public var hex: String
  public var string: String?
  public var strings: [String]?
  public var cells: [UInt32]?
  public var u64: String?

  public init(_ p: FDT.Property, order: ByteOrder) {
    name = p.name
    length = p.length
    let raw = p.value.array
    hex = raw.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    if DTSRenderer.guessType(raw) == .string, let list = p.strings {
      if list.count == 1 { string = list[0] } else { strings = list }
    }
    if p.length == 8, let v = p.u64(order) {
      u64 = PhysAddr(v).description
    } else if p.length % 4 == 0, p.length > 0, p.length <= 64 {
      cells = p.cells
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The `memblock` sub-FDT: `reserve_mem=` regions carried across kexec.
///
/// Root `compatible = "memblock-v1"`; one child per region, named by the
/// user, with `compatible = "reserve-mem-v1"` and raw native u64 `start`
/// and `size`. See kho-abi.md §4.4.
public struct MemblockRegion: Hashable, Sendable, Codable {
  public var name: String
  public var start: PhysAddr
  public var size: UInt64

  public init(name: String, start: PhysAddr, size: UInt64) {
    self.name = name
    self.start = start
    self.size = size
  }
}

public enum Memblock {
  public static let nodeName = "memblock"
  public static let compatible = "memblock-v1"
  public static let regionCompatible = "reserve-mem-v1"

  /// ``decode(_:order:path:)`` as an outcome: all the regions, or `nil`
  /// with the first problem.
  public static func decodeReporting(_ fdt: FDT, order: ByteOrder, path: DecodePath = "/memblock")
    -> DecodeOutcome<[MemblockRegion]>
  {
    .collect { (_) throws(DecodeError) in try decode(fdt, order: order, path: path) }
  }

  /// Decodes the regions of a memblock sub-FDT.
  public static func decode(_ fdt: FDT, order: ByteOrder, path: DecodePath = "/memblock")
    throws(DecodeError) -> [MemblockRegion]
  {
    let seen = fdt.root.property("compatible")?.string
    guard seen == compatible else {
      throw DecodeError(
        .unknownVersion, "memblock compatible is '\(seen ?? "(none)")', expected '\(compatible)'",
        path: path)
    }
    var out: [MemblockRegion] = []
    for (i, node) in fdt.root.children.enumerated() {
      let p = path.appending(node.name)
      guard node.property("compatible")?.string == regionCompatible else {
        throw DecodeError(.unknownVersion, "region \(i) is not \(regionCompatible)", path: p, offset: node.offset)
      }
      guard let start = node.property("start")?.u64(order), let size = node.property("size")?.u64(order)
      else {
        throw DecodeError(.missing, "region needs 8-byte 'start' and 'size'", path: p, offset: node.offset)
      }
      out.append(MemblockRegion(name: node.name, start: PhysAddr(start), size: size))
    }
    return out
  }
}

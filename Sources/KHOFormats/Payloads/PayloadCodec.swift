// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// What a payload decoder is given: where the payload is and how to bound it.
public struct PayloadContext {
  /// The captured memory.
  public var memory: any PhysicalMemory
  /// The payload's address (`data` field or sub-blob address).
  public var address: PhysAddr
  /// The sub-blob's declared size (sub-nodes with `blob-size`).
  public var size: UInt64?
  /// Where the payload hangs.
  public var host: PayloadHost
  /// The string it was found under.
  public var compatible: String
  /// Where problems are reported.
  public var path: DecodePath
  /// The order the preserved-memory map records for an allocation starting
  /// at an address (`nil`: unknown or no such entry).
  public var preservedOrder: @Sendable (PhysAddr) -> Int?
  /// The PCI devices the handover's PCI FLB preserves, keyed `domain << 16 | bdf`
  /// (`nil` when there is none): lets a VFIO decoder pick the layout whose
  /// device is one of them.
  public var pciDevices: Set<UInt64>?

  public init(
    memory: any PhysicalMemory, address: PhysAddr, size: UInt64? = nil, host: PayloadHost,
    compatible: String, path: DecodePath, preservedOrder: @escaping @Sendable (PhysAddr) -> Int? = { _ in nil }
  ) {
    self.memory = memory
    self.address = address
    self.size = size
    self.host = host
    self.compatible = compatible
    self.path = path
    self.preservedOrder = preservedOrder
  }

  var geometry: PageGeometry { memory.geometry }

  /// The bytes a `kho_alloc_preserve`'d object at `address` may span: the
  /// preserved allocation (`PAGE_SIZE << order`) when the map knows it,
  /// otherwise `fallbackPages` pages; always to the end of that allocation.
  func allocationBytes(at address: PhysAddr, fallbackPages: Int = 1) -> Int {
    let g = geometry
    var order = 0
    if let known = preservedOrder(address) {
      order = known
    } else {
      while (1 << order) < fallbackPages { order += 1 }
    }
    let total = g.pageSize << Swift.min(order, 12)
    return total - address.pageOffset(g)
  }
}

/// A decoder for the payloads named by one or more strings.
///
/// Adding a payload family is one folder in KHOFormats with a type
/// conforming to this protocol and one line in ``Payloads/codecs``.
protocol PayloadCodec: Sendable {
  /// The exact strings it decodes, and where each hangs.
  static var names: [(String, PayloadHost)] { get }
  /// Decodes the payload, reporting problems through `problems` (strict
  /// mode throws the first).
  static func decode(_ context: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError) -> DecodedPayload
}

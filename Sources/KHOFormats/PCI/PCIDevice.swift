// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// One preserved PCI device slot: `struct pci_dev_ser` (or an older entry).
///
/// `bdf` is `pci_dev_id()`: bus << 8 | devfn (device << 3 | function);
/// `domain` is the PCI segment. `refcount` 0 marks a free slot in the
/// layouts that have one; version 2 of the `pci` FLB counts the preserved
/// devices at or below a bridge in it.
public struct PCIDevice: Hashable, Sendable, Comparable {
  public var domain: UInt32
  public var bdf: UInt16
  /// `refcount` (P4, P5, P6, P7), or the reserved/padding half-word (P2, P3); 0 in P1.
  public var refcount: UInt16

  public init(domain: UInt32, bdf: UInt16, refcount: UInt16 = 1) {
    self.domain = domain
    self.bdf = bdf
    self.refcount = refcount
  }

  public var bus: UInt8 { UInt8(bdf >> 8) }
  public var device: UInt8 { UInt8((bdf >> 3) & 0x1f) }
  public var function: UInt8 { UInt8(bdf & 0x7) }

  /// `DDDD:BB:DD.F`, as `lspci -D` prints it.
  public var name: String {
    func hex(_ v: UInt64, _ w: Int) -> String {
      let s = String(v, radix: 16)
      return String(repeating: "0", count: Swift.max(0, w - s.count)) + s
    }
    return "\(hex(UInt64(domain), 4)):\(hex(UInt64(bus), 2)):\(hex(UInt64(device), 2)).\(function)"
  }

  public static func < (a: PCIDevice, b: PCIDevice) -> Bool { (a.domain, a.bdf) < (b.domain, b.bdf) }

  var fields: PayloadValue {
    .object([
      ("domain", .int(UInt64(domain))), ("bdf", .hex(UInt64(bdf))), ("refcount", .int(UInt64(refcount))),
      ("name", .string(name)),
    ])
  }
}

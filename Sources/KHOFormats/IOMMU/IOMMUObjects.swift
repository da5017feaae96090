// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The object header every IOMMU FLB object starts with.
public struct IOMMUObjectHeader: Hashable, Sendable {
  public static let deletedFlag: UInt32 = 0x1
  public static let incomingFlag: UInt32 = 0x2
  public var refCount: UInt32
  public var flags: UInt32
  public var isDeleted: Bool { flags & Self.deletedFlag != 0 }
  public var isIncoming: Bool { flags & Self.incomingFlag != 0 }
  public init(refCount: UInt32, flags: UInt32 = 0) {
    self.refCount = refCount
    self.flags = flags
  }
  var fields: [(String, PayloadValue)] {
    [
      ("ref_count", .int(UInt64(refCount))), ("flags", .hex(UInt64(flags))), ("deleted", .bool(isDeleted)),
      ("incoming", .bool(isIncoming)),
    ]
  }
}

/// An IOMMU hardware unit of the FLB.
public struct IOMMUHardware: Hashable, Sendable {
  public var address: PhysAddr = .zero
  public var header: IOMMUObjectHeader
  public var token: UInt64
  /// 0 INVALID, 1 INTEL, 2 ARM_SMMUV3 (I5).
  public var type: UInt64
  /// Intel: the register base and root table (I1, I3, I5).
  public var registerBase: UInt64 = 0
  public var rootTable: UInt64 = 0
  public init(header: IOMMUObjectHeader, token: UInt64, type: UInt64) {
    self.header = header
    self.token = token
    self.type = type
  }
}

/// An IOMMU domain of the FLB: an I/O address space and its page table.
public struct IOMMUDomain: Hashable, Sendable {
  public var address: PhysAddr = .zero
  public var header: IOMMUObjectHeader
  public var topTable: PhysAddr
  public var topLevel: UInt64
  /// Bits of IOVA space (I2–I5).
  public var vasz: UInt32?
  /// The walk of its page table (not encoded).
  public var pageTable: IOMMUPageTable?
  public init(header: IOMMUObjectHeader, topTable: PhysAddr, topLevel: UInt64, vasz: UInt32? = nil) {
    self.header = header
    self.topTable = topTable
    self.topLevel = topLevel
    self.vasz = vasz
  }

  /// Levels of the table: `top_level` counts from 0 at the leaf table, unless
  /// `vasz` says it counts from 1 **[unsure]**.
  public var levels: Int {
    guard topLevel < 8 else { return Int.max }
    if let vasz, UInt64(vasz) == 12 + 9 * topLevel { return Int(topLevel) }
    return Int(topLevel) + 1
  }
}

/// A device attached through the IOMMU.
public struct IOMMUDevice: Hashable, Sendable {
  public var address: PhysAddr = .zero
  public var header: IOMMUObjectHeader
  /// The PCI requester id (`bus << 8 | devfn`).
  public var devid: UInt32
  public var pciDomain: UInt32
  public var attachmentID: UInt64 = 0
  public var domainPhys: PhysAddr
  public var iommuPhys: PhysAddr
  public var pasidTable: UInt64 = 0
  public var maxPasid: UInt64 = 0
  public var dmaOwnerToken: UInt64 = 0
  public init(header: IOMMUObjectHeader, devid: UInt32, pciDomain: UInt32, domainPhys: PhysAddr, iommuPhys: PhysAddr) {
    self.header = header
    self.devid = devid
    self.pciDomain = pciDomain
    self.domainPhys = domainPhys
    self.iommuPhys = iommuPhys
  }
  public var pci: PCIDevice { PCIDevice(domain: pciDomain, bdf: UInt16(truncatingIfNeeded: devid)) }
}

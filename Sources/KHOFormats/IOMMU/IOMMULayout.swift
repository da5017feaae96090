// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Where the fields of the IOMMU FLB's objects sit in each layout
/// (payloads.md §4). Offsets are bytes from the object's start; `nil`: the
/// layout has no such field.
public struct IOMMULayout: Hashable, Sendable {
  public enum ID: String, Sendable, Hashable, CaseIterable {
    case i1 = "I1", i2 = "I2", i3 = "I3", i4 = "I4", i5 = "I5"
  }

  public var id: ID
  /// Size of the top struct (with I4/I5's leading version).
  public var topSize: Int
  /// Where the object header's `ref_count` and flags are.
  public var refCount: Int
  public var flags: Int
  /// Flags width: 1 (a bit-field byte) or 4 (`u32 flags`).
  public var flagsWidth: Int
  public var domainSize: Int
  public var deviceSize: Int
  public var hwSize: Int
  // Domain.
  public var topTable: Int
  public var topLevel: Int
  public var vasz: Int?
  // Device.
  public var devid: Int
  public var pciDomain: Int
  public var attachmentID: Int?
  public var domainPhys: Int
  public var iommuPhys: Int
  public var pasidTable: Int?
  public var maxPasid: Int?
  public var dmaOwnerToken: Int?
  // Hardware unit.
  public var token: Int
  public var type: Int
  /// Intel: register base and root table.
  public var intelPhys: Int?
  public var intelRootTable: Int?

  /// Every layout, by id.
  public static let all: [ID: IOMMULayout] = [
    .i1: IOMMULayout(
      id: .i1, topSize: 48, refCount: 4, flags: 8, flagsWidth: 1, domainSize: 41, deviceSize: 53, hwSize: 48,
      topTable: 9, topLevel: 17, vasz: nil, devid: 17, pciDomain: 21, attachmentID: nil, domainPhys: 33,
      iommuPhys: 41, pasidTable: nil, maxPasid: nil, dmaOwnerToken: nil, token: 16, type: 24, intelPhys: 28,
      intelRootTable: 36),
    .i2: IOMMULayout(
      id: .i2, topSize: 24, refCount: 0, flags: 4, flagsWidth: 1, domainSize: 34, deviceSize: 37, hwSize: 21,
      topTable: 5, topLevel: 13, vasz: 21, devid: 5, pciDomain: 9, attachmentID: 13, domainPhys: 21, iommuPhys: 29,
      pasidTable: nil, maxPasid: nil, dmaOwnerToken: nil, token: 5, type: 13, intelPhys: nil, intelRootTable: nil),
    .i3: IOMMULayout(
      id: .i3, topSize: 24, refCount: 0, flags: 4, flagsWidth: 4, domainSize: 37, deviceSize: 56, hwSize: 112,
      topTable: 8, topLevel: 16, vasz: 24, devid: 8, pciDomain: 12, attachmentID: 16, domainPhys: 24, iommuPhys: 32,
      pasidTable: 40, maxPasid: 48, dmaOwnerToken: nil, token: 8, type: 16, intelPhys: 32, intelRootTable: 40),
    .i4: IOMMULayout(
      id: .i4, topSize: 32, refCount: 0, flags: 4, flagsWidth: 4, domainSize: 37, deviceSize: 40, hwSize: 24,
      topTable: 8, topLevel: 16, vasz: 24, devid: 8, pciDomain: 12, attachmentID: 16, domainPhys: 24, iommuPhys: 32,
      pasidTable: nil, maxPasid: nil, dmaOwnerToken: nil, token: 8, type: 16, intelPhys: nil, intelRootTable: nil),
    .i5: IOMMULayout(
      id: .i5, topSize: 32, refCount: 0, flags: 4, flagsWidth: 4, domainSize: 40, deviceSize: 72, hwSize: 112,
      topTable: 8, topLevel: 16, vasz: 24, devid: 8, pciDomain: 12, attachmentID: 24, domainPhys: 32, iommuPhys: 40,
      pasidTable: 56, maxPasid: 64, dmaOwnerToken: 16, token: 8, type: 16, intelPhys: 32, intelRootTable: 40),
  ]

  /// The layouts a string may hold, in the order they are tried.
  static func candidates(_ compatible: String) -> [ID] {
    switch compatible {
    case "iommu-v1": [.i1]
    case "iommu-liveupdate-v1": [.i2, .i3]
    default: [.i4, .i5]
    }
  }
}

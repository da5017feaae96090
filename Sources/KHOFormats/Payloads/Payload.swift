// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Where a payload hangs in a handover.
public enum PayloadHost: String, Sendable, Hashable, Codable, CaseIterable {
  /// A LUO file's `luo_file_ser.data`, named by the file's compatible.
  case file
  /// A LUO FLB's `luo_flb_ser.data`, named by the FLB's name.
  case flb
  /// A KHO root sub-node (sub-FDT or raw sub-blob), named by the node.
  case subnode
}

/// A decoded payload's typed content.
///
/// Each payload family has its own state type (``GuestMemfdPayload``,
/// ``KVMVMPayload``, …); ``fields`` gives the same content keyed by the
/// upstream struct's field names.
public protocol PayloadState: Sendable {
  /// The fields, keyed by the upstream struct's field names.
  var fields: PayloadValue { get }
  /// One line for a person, sizes in units: "16 KiB, 2 folios, VM token 0x10".
  func summary(_ geometry: PageGeometry) -> String
}

/// Memory a payload refers to, which must survive the kexec.
public struct PayloadReference: Sendable, Hashable {
  /// What kind of memory it is.
  public enum Kind: String, Sendable, Hashable, Codable {
    /// A folio restored with `kho_restore_folio` at ``PayloadReference/order``.
    case folio
    /// Pages of serialized metadata (a struct, an array page, a chunk).
    case metadata
  }

  public var kind: Kind
  /// The first byte.
  public var address: PhysAddr
  /// Pages covered, from `address`.
  public var pages: UInt64
  /// The folio order the next kernel restores it at (folios only).
  public var order: Int?
  /// Where in the payload it is named.
  public var path: DecodePath
  /// A few words for a person: "guest memory folio", "vCPU control block".
  public var what: String

  public init(_ kind: Kind, _ address: PhysAddr, pages: UInt64 = 1, order: Int? = nil, path: DecodePath, what: String) {
    self.kind = kind
    self.address = address
    self.pages = pages
    self.order = order
    self.path = path
    self.what = what
  }
}

/// One decoded payload: which layout was read, its content and what it refers to.
public struct DecodedPayload: Sendable {
  /// The string it was found under (file compatible, FLB name or node name).
  public var compatible: String
  /// The layout read, e.g. `kvm_vm_luo_v1 K-A`.
  public var format: String
  /// Why that layout was chosen, when a string has several.
  public var layoutReason: String?
  /// The physical address of the payload's top struct (or sub-blob).
  public var address: PhysAddr
  /// The typed content.
  public var state: any PayloadState
  /// Every page the payload refers to.
  public var references: [PayloadReference]

  public init(
    compatible: String, format: String, layoutReason: String? = nil, address: PhysAddr,
    state: any PayloadState, references: [PayloadReference]
  ) {
    self.compatible = compatible
    self.format = format
    self.layoutReason = layoutReason
    self.address = address
    self.state = state
    self.references = references
  }

  /// The fields with `format` first: the `payload` object of `sessions --format json`.
  public var fields: PayloadValue {
    var out: [(String, PayloadValue)] = [("format", .string(format))]
    if let layoutReason { out.append(("layout_reason", .string(layoutReason))) }
    if case .object(let fs) = state.fields { out += fs } else { out.append(("value", state.fields)) }
    return .object(out)
  }
}

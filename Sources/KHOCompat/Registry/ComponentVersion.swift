// SPDX-License-Identifier: Apache-2.0
/// One version of one component, as the registry knows it.
///
/// `name` is the registry key. It is the kernel's exact compatible string
/// when the kernel has one (`luo-v5;block-v1`); for versions the kernel does
/// not name (the kho-v1 bitmap list, kexec-metadata version 1, the KHO
/// xarray) it is a toolkit name, and ``strings`` is empty.
public struct ComponentVersion: Hashable, Sendable, Codable {
  /// Registry key; the kernel's string when it has one.
  public var name: String
  /// The component this is a version of.
  public var component: ComponentID
  /// Position in the component's history (1 = oldest). Orders "newest".
  public var ordinal: Int
  /// The exact strings a kernel writes for this version (empty when implied).
  public var strings: [String]
  /// Where the string lives and who checks it.
  public var role: ComponentRole
  /// Versions (registry names) of formats this one contains or depends on.
  public var nests: [String]
  /// Versions (registry names) whose presence implies this one when it has no string.
  public var impliedBy: [String]
  /// Where this version comes from.
  public var status: VersionStatus
  /// Whether the toolkit decodes its bytes.
  public var scope: DecodeScope
  /// What a reader expecting another version does on mismatch (kho-abi.md §9.1).
  public var onMismatch: String
  /// Other components whose versions this one needs in the same handover.
  public var requires: [Requirement]
  /// Section of kho-abi.md (or liveupdate-design.md) the facts come from.
  public var source: String
  /// Anything a reader of the registry should know ([unsure] facts say so).
  public var notes: String?

  public init(
    name: String, component: ComponentID, ordinal: Int, strings: [String]? = nil,
    role: ComponentRole, nests: [String] = [], impliedBy: [String] = [],
    status: VersionStatus, scope: DecodeScope = .decoded, onMismatch: String,
    requires: [Requirement] = [], source: String, notes: String? = nil
  ) {
    self.name = name
    self.component = component
    self.ordinal = ordinal
    self.strings = strings ?? [name]
    self.role = role
    self.nests = nests
    self.impliedBy = impliedBy
    self.status = status
    self.scope = scope
    self.onMismatch = onMismatch
    self.requires = requires
    self.source = source
    self.notes = notes
  }

  /// Whether the kernel names this version with a string of its own.
  public var hasKernelString: Bool { !strings.isEmpty }
}

/// A condition one version puts on another component in the same handover.
///
/// `luo-v4` stores sessions in KHO blocks, which only a kho-v4 root's
/// kernel restores; a luo-v1 reader with FLB support panics when the
/// `luo-flb` node is missing. Negotiation checks these after choosing each
/// component's version.
public struct Requirement: Hashable, Sendable, Codable {
  /// The component that must be written alongside.
  public var component: ComponentID
  /// Any of these versions satisfies the requirement.
  public var anyOf: [String]
  /// Applies only when the reader can read this version (a reader-side need).
  public var whenReaderReads: String?
  /// Why, with the reference section.
  public var reason: String

  public init(component: ComponentID, anyOf: [String], whenReaderReads: String? = nil, reason: String) {
    self.component = component
    self.anyOf = anyOf
    self.whenReaderReads = whenReaderReads
    self.reason = reason
  }
}

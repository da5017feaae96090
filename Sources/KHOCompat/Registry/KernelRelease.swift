// SPDX-License-Identifier: Apache-2.0
/// A kernel release (or tree snapshot) and the versions it writes.
///
/// The release mapping in kho-abi.md §11 is itself **[inferred]** (v6.16 for
/// KHO, v6.19 for LUO, v7.2-rc1 for blocks); entries say so. A component
/// whose version in a release is not known is listed in ``unknown``.
public struct KernelRelease: Hashable, Sendable, Codable {
  /// `v6.19`, `v7.2-rc1`, or a tree snapshot name.
  public var name: String
  /// Whether this is a release or a tree snapshot.
  public var isRelease: Bool
  /// Whether the mapping of versions to this release is inferred.
  public var inferred: Bool
  /// Registry version written, per component.
  public var writes: [ComponentID: String]
  /// Components present whose version the reference does not pin down.
  public var unknown: [ComponentID: String]
  /// Where the facts come from.
  public var source: String

  public init(
    name: String, isRelease: Bool = true, inferred: Bool, writes: [ComponentID: String],
    unknown: [ComponentID: String] = [:], source: String
  ) {
    self.name = name
    self.isRelease = isRelease
    self.inferred = inferred
    self.writes = writes
    self.unknown = unknown
    self.source = source
  }

  /// The releases the registry knows, oldest first.
  public static let known: [KernelRelease] = {
    let v616: [ComponentID: String] = [
      .kho: "kho-v1", .memoryMap: "bitmap-chunks-v1", .memblock: "memblock-v1", .reserveMem: "reserve-mem-v1",
    ]
    var v618 = v616
    v618[.vmalloc] = "vmalloc-v1"
    var v619 = v618
    v619[.luo] = "luo-v1"
    v619[.luoSession] = "luo-session-v2"
    v619[.memfd] = "memfd-v1"
    var v70 = v619
    v70[.luoFLB] = "luo-flb-v1"
    var v72 = v618
    v72[.kho] = "kho-v4"
    v72[.memoryMap] = "radix-v1"
    v72[.block] = "block-v1"
    v72[.luo] = "luo-v5"
    v72[.kexecMetadata] = "kexec-metadata-v1"
    var mm = v72
    mm[.kho] = "kho-v4;radix-v1;vmalloc-v1"
    mm[.luo] = "luo-v5;block-v1"
    mm[.memfd] = "memfd-v2;vmalloc-v1"
    return [
      .init(name: "v6.16", inferred: true, writes: v616, source: "kho-abi §11"),
      .init(name: "v6.18", inferred: true, writes: v618, source: "kho-abi §11 (≈6.18, vmalloc preservation)"),
      .init(name: "v6.19", inferred: true, writes: v619, source: "kho-abi §11 (LUO per luo-agent's 6.19+)"),
      .init(name: "v7.0", inferred: true, writes: v70, source: "kho-abi §11 (≈7.0, FLB)"),
      .init(
        name: "v7.2-rc1", inferred: true, writes: v72,
        unknown: [.memfd: "memfd-v1 or memfd-v2: the memfd-v2 release is [unsure]"],
        source: "kho-abi §11 (blocks per the v7.2-rc1 ABI docs)"),
      .init(
        name: "linux-mm 2026-06 (RFC)", isRelease: false, inferred: false, writes: mm,
        source: "kho-abi §9.3 (composite strings applied in linux-mm)"),
    ]
  }()
}

// SPDX-License-Identifier: Apache-2.0
/// Whether the toolkit can read or write a version today.
public enum CodecState: String, Hashable, Sendable, Codable, CaseIterable {
  /// A codec is merged and tested.
  case available
  /// A codec is being written; not usable yet.
  case planned
  /// Not supported and not planned (opaque strings).
  case none
}

/// The toolkit's read and write support for one version.
public struct CodecSupport: Hashable, Sendable, Codable {
  public var read: CodecState
  public var write: CodecState
  /// Where the codec lives (or will live).
  public var codec: String?

  public init(read: CodecState, write: CodecState, codec: String?) {
    self.read = read
    self.write = write
    self.codec = codec
  }

  /// Neither read nor written.
  public static let opaque = CodecSupport(read: .none, write: .none, codec: nil)
}

extension CodecSupport {
  /// THE table of what the toolkit reads and writes, by registry name.
  ///
  /// This is the one place to update when a codec lands: flip `.planned`
  /// to `.available`. Names not listed here are opaque. A test checks that
  /// every decoded registry version has an entry and every entry names a
  /// registry version.
  public static let table: [String: CodecSupport] = {
    let both = { (codec: String) in CodecSupport(read: .available, write: .available, codec: codec) }
    let readOnly = { (codec: String) in CodecSupport(read: .available, write: .planned, codec: codec) }
    let root = "KHOFormats/Root"
    let mm = "KHOFormats/MemoryMap"
    let luo = "KHOFormats/LUO"
    let memfd = "KHOFormats/Memfd"
    return [
      "kho-v1": both(root),
      "kho-v2": both(root),
      "kho-v3": both(root),
      "kho-v4": both(root),
      "kho-v4;radix-v1;vmalloc-v1": both(root),
      "kho-v4;radix-v1": both(root),
      "bitmap-chunks-v1": both(mm),
      "radix-v1": both(mm),
      "block-v1": both("KHOFormats/Blocks"),
      "vmalloc-v1": both("KHOFormats/VMalloc"),
      "luo-v1": both(luo),
      "luo-v2": both(luo),
      "luo-v3": both(luo),
      "luo-v4": both(luo),
      "luo-v5": both(luo),
      "luo-v5;block-v1": both(luo),
      "luo-v3-kho-block-v1": both(luo),
      "luo-v4-kho-block-v1": both(luo),
      "luo-features": both(luo),
      "memfd": both(memfd),
      "guest_memfd_luo_v1": both("KHOFormats/KVM"),
      "kvm_vm_luo_v1": both("KHOFormats/KVM"),
      "kvm_vcpu_luo_v1": both("KHOFormats/KVM"),
      "hugetlb-v1": both("KHOFormats/HugeTLB"),
      "huge-memfd-v1": both("KHOFormats/HugeTLB"),
      "tmpfs-mnt-v1": both("KHOFormats/Tmpfs"),
      "tmpfs-file-v1": both("KHOFormats/Tmpfs"),
      "mshv_kho-v1": both("KHOFormats/MSHV"),
      "hwpoison-metadata-v1": both("KHOFormats/HWPoison"),
      "hwpoison-v1": both("KHOFormats/HWPoison"),
      "pstore-ser-v1": both("KHOFormats/Pstore"),
      "pstore-kho-v1": both("KHOFormats/Pstore"),
      "pci-v1": both("KHOFormats/PCI"),
      "pci-v2": both("KHOFormats/PCI"),
      "pci": both("KHOFormats/PCI"),
      "vfio-pci-v1": both("KHOFormats/PCI"),
      "vfio-pci-v2": both("KHOFormats/PCI"),
      "iommu-v1": both("KHOFormats/IOMMU"),
      "iommu-liveupdate-v1": both("KHOFormats/IOMMU"),
      "iommu-liveupdate": both("KHOFormats/IOMMU"),
      "iommufd-v0": readOnly("KHOFormats/IOMMU"),
      "iommufd-v1": both("KHOFormats/IOMMU"),
      "cpu_flb_v1": readOnly("KHOFormats/CPU"),
      "cpu_fh_v1": readOnly("KHOFormats/CPU"),
      "luo-session-v1": both(luo),
      "luo-session-v2": both(luo),
      "luo-flb-v1": both(luo),
      "memfd-v1": both(memfd),
      "memfd-v2": both(memfd),
      "memfd-v2;vmalloc-v1": both(memfd),
      "kexec-metadata-v1": both("KHOFormats/Metadata"),
      "memblock-v1": readOnly("KHOFormats/Memblock"),
      "reserve-mem-v1": readOnly("KHOFormats/Memblock"),
      "kho-xarray-v1": both("KHOFormats/XArrayFormat"),
      "kho-xarray-v2": both("KHOFormats/XArrayFormat"),
    ]
  }()

  /// The support for `name` (opaque when the table does not list it).
  public static func of(_ name: String) -> CodecSupport { table[name] ?? .opaque }
}

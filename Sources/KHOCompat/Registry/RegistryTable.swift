// SPDX-License-Identifier: Apache-2.0
// The registry's data: every component version the toolkit knows, with the
// facts from the KHO ABI reference notes (section numbers cited).

extension VersionRegistry {
  /// Consequences of a compatible mismatch, by reader (kho-abi.md §9.1).
  enum Mismatch {
    static let root =
      "the incoming kernel disables KHO revival: a normal boot, preserved memory becomes free, LUO sees no data (§9.1)"
    static let map = "the memory map is read as the root version says; a walk error disables KHO revival (§9.1)"
    static let luo = "the incoming kernel panics in luo_restore_fail() (§9.1)"
    static let handler =
      "no handler matches: -ENOENT for that file, its session fails to deserialize and opening /dev/liveupdate returns -EIO (§9.1, inferred)"
    static let flb = "-ENOENT for that FLB on first use (§9.1)"
    static let metadata = "a warning; the metadata is ignored (§9.1)"
    static let memblock = "the reserve_mem region is allocated afresh; its contents are lost (§9.1)"
    static let nested =
      "no string of its own in mainline: checked through the parent's string (composite since the June 2026 RFC, §9.3)"
    static let toolkit = "no kernel reads it; the toolkit refuses a version it does not know"
    static let subNode = "the subsystem ignores or refuses the sub-node (MSHV panics; hwpoison and pstore are ignored)"
  }

  /// Every version the toolkit knows, decoded and opaque.
  static let standardVersions: [ComponentVersion] = {
    let kho3Plus = ["kho-v3", "kho-v4", "kho-v4;radix-v1", "kho-v4;radix-v1;vmalloc-v1"]
    let kho4Plus = ["kho-v4", "kho-v4;radix-v1", "kho-v4;radix-v1;vmalloc-v1"]
    let blobSize = Requirement(
      component: .kho, anyOf: kho3Plus,
      reason: "a raw (non-FDT) LUO blob needs the root's blob-size property, kho-v3 or later (§2.1, §6.4)")
    let blocks = Requirement(
      component: .kho, anyOf: kho4Plus,
      reason: "KHO linked blocks came with kho-v4; older roots' kernels have no block reader (§2.1, §5)")
    var v: [ComponentVersion] = []

    // KHO root (§2).
    v.append(
      .init(
        name: "kho-v1", component: .kho, ordinal: 1, role: .root, nests: ["bitmap-chunks-v1"],
        status: .mainline, onMismatch: Mismatch.root, source: "kho-abi §2.1, §3a",
        notes: "sub-blobs via the `fdt` property (FDT only); bitmap chunk memory map"))
    v.append(
      .init(
        name: "kho-v2", component: .kho, ordinal: 2, role: .root, nests: ["radix-v1"],
        status: .mainline, onMismatch: Mismatch.root, source: "kho-abi §2.1, §3b",
        notes: "radix-tree memory map; sub-blobs via `preserved-data` (FDT only, no blob-size)"))
    v.append(
      .init(
        name: "kho-v3", component: .kho, ordinal: 3, role: .root, nests: ["radix-v1"],
        status: .mainline, onMismatch: Mismatch.root, source: "kho-abi §2.1",
        notes: "adds the required `blob-size` property; sub-blobs may be raw"))
    v.append(
      .init(
        name: "kho-v4", component: .kho, ordinal: 4, role: .root, nests: ["radix-v1", "block-v1"],
        status: .mainline, onMismatch: Mismatch.root, source: "kho-abi §2.1, §5",
        notes: "root layout as kho-v3; bumped with linked blocks (block-v1 has no string of its own in mainline)"))
    v.append(
      .init(
        name: "kho-v4;radix-v1", component: .kho, ordinal: 5, role: .root, nests: ["radix-v1"],
        status: .linuxMM, onMismatch: Mismatch.root, source: "payloads §13.3; kho-abi §9.3",
        notes: "RFC patch 3/9 (June 2026), before ;vmalloc-v1 was appended; layout as kho-v4"))
    v.append(
      .init(
        name: "kho-v4;radix-v1;vmalloc-v1", component: .kho, ordinal: 6, role: .root,
        nests: ["radix-v1", "vmalloc-v1"], status: .linuxMM, onMismatch: Mismatch.root,
        source: "kho-abi §9.3", notes: "RFC composite form (June 2026); layout as kho-v4"))

    // Memory map (§3).
    v.append(
      .init(
        name: "bitmap-chunks-v1", component: .memoryMap, ordinal: 1, strings: [], role: .nested,
        impliedBy: ["kho-v1"], status: .mainline, onMismatch: Mismatch.map, source: "kho-abi §3a",
        notes: "toolkit name; the kernel names it only through the root string kho-v1"))
    v.append(
      .init(
        name: "radix-v1", component: .memoryMap, ordinal: 2, role: .nested,
        impliedBy: ["kho-v2", "kho-v3", "kho-v4"], status: .mainline, onMismatch: Mismatch.map,
        source: "kho-abi §3b, §9.3",
        notes:
          "string only inside the RFC composite root; 16 KiB-page tree depth differs between the original and the +1 formula [unsure]"
      ))

    // Blocks and vmalloc (§4.2, §5).
    v.append(
      .init(
        name: "block-v1", component: .block, ordinal: 2, role: .nested, impliedBy: ["kho-v4"],
        status: .linuxMM, onMismatch: Mismatch.nested, source: "kho-abi §5, §9.3",
        notes: "string appended to LUO's by the RFC (luo-v5;block-v1); covered by kho-v4 in mainline"))
    v.append(
      .init(
        name: "kho-block-v1", component: .block, ordinal: 1, role: .nested, status: .preMerge,
        scope: .opaque, onMismatch: Mismatch.nested, source: "kho-abi §5",
        notes: "an earlier series revision's name, appended with '-' to luo-v3; same block layout as block-v1 [unsure]")
    )
    v.append(
      .init(
        name: "vmalloc-v1", component: .vmalloc, ordinal: 1, role: .nested,
        impliedBy: ["kho-v1", "kho-v2", "kho-v3", "kho-v4", "memfd-v1", "memfd-v2"],
        status: .linuxMM, onMismatch: Mismatch.nested, source: "kho-abi §4.2, §9.3",
        notes: "layout unchanged since ≈6.18; the string vmalloc-v1 exists only since the RFC"))

    // LUO (§6).
    v.append(
      .init(
        name: "luo-v1", component: .luo, ordinal: 1, role: .subBlob,
        nests: ["luo-session-v1", "luo-session-v2", "luo-flb-v1"], status: .mainline,
        onMismatch: Mismatch.luo,
        requires: [
          Requirement(
            component: .luoSession, anyOf: ["luo-session-v1", "luo-session-v2"],
            reason: "the luo-v1 FDT must carry a luo-session node (§6.2)"),
          Requirement(
            component: .luoFLB, anyOf: ["luo-flb-v1"], whenReaderReads: "luo-flb-v1",
            reason:
              "a reader with FLB support panics when the luo-v1 FDT has no luo-flb node, although the root string is the same (§6.2, inferred)"
          ),
        ],
        source: "kho-abi §6.2", notes: "one root string for three shapes: session-v1, session-v2, session-v2 + luo-flb")
    )
    v.append(
      .init(
        name: "luo-session-v1", component: .luoSession, ordinal: 1, role: .subNode, status: .mainline,
        onMismatch: Mismatch.luo, source: "kho-abi §6.1, §6.2",
        notes: "64-byte session entries (name only); an intermediate form during the v6.19 merge"))
    v.append(
      .init(
        name: "luo-session-v2", component: .luoSession, ordinal: 2, role: .subNode, status: .mainline,
        onMismatch: Mismatch.luo, source: "kho-abi §6.1, §6.2", notes: "80-byte session entries with a file set"))
    v.append(
      .init(
        name: "luo-flb-v1", component: .luoFLB, ordinal: 1, role: .subNode, status: .mainline,
        onMismatch: Mismatch.luo, source: "kho-abi §6.1, §6.2",
        notes: "a luo-v1 node; luo-v2 and later carry the FLB region in luo_ser without a string"))
    v.append(
      .init(
        name: "luo-v2", component: .luo, ordinal: 2, role: .subBlob, status: .mainline,
        onMismatch: Mismatch.luo, source: "kho-abi §6.3",
        notes:
          "FDT with one luo-abi-header pointer to a 24-byte luo_ser; an intermediate commit of the series merged ≈v7.2-rc1, no release writes it [inferred]"
      ))
    v.append(
      .init(
        name: "luo-v3", component: .luo, ordinal: 3, role: .subBlob, status: .mainline,
        onMismatch: Mismatch.luo, requires: [blobSize], source: "kho-abi §6.4",
        notes:
          "raw 32-byte luo_ser; 16-page session region (≤ 819 sessions), 2-page file arrays (≤ 128 files); intermediate commit, no release writes it [inferred]"
      ))
    v.append(
      .init(
        name: "luo-v3-kho-block-v1", component: .luo, ordinal: 4, role: .subBlob,
        nests: ["kho-block-v1"], status: .preMerge, onMismatch: Mismatch.luo,
        requires: [blobSize, blocks], source: "payloads §13.2; kho-abi §5",
        notes:
          "June 2026 mails: the block string glued on by '-'; 24-byte compatible field, 48-byte luo_ser; lists as luo-v4 [unsure]"
      ))
    v.append(
      .init(
        name: "luo-v4", component: .luo, ordinal: 5, role: .subBlob, nests: ["block-v1"],
        status: .mainline, onMismatch: Mismatch.luo, requires: [blocks], source: "kho-abi §6.4",
        notes:
          "sessions in a block chain; files still in 2-page arrays (≤ 128 per session); intermediate commit (also in openSUSE/kernel), no release writes it [inferred]"
      ))
    v.append(
      .init(
        name: "luo-v4-kho-block-v1", component: .luo, ordinal: 6, role: .subBlob,
        nests: ["kho-block-v1"], status: .preMerge, onMismatch: Mismatch.luo,
        requires: [blobSize, blocks], source: "payloads §13.2; kho-abi §5",
        notes: "the same revision's luo-v4: 24-byte compatible field, 48-byte luo_ser; lists as luo-v5 [unsure]"))
    v.append(
      .init(
        name: "luo-v5", component: .luo, ordinal: 7, role: .subBlob, nests: ["block-v1"],
        status: .mainline, onMismatch: Mismatch.luo, requires: [blocks], source: "kho-abi §6.4, §11",
        notes: "sessions and files in block chains"))
    v.append(
      .init(
        name: "luo-v5;block-v1", component: .luo, ordinal: 8, role: .subBlob, nests: ["block-v1"],
        status: .linuxMM, onMismatch: Mismatch.luo, requires: [blocks], source: "kho-abi §6.4, §9.3",
        notes: "RFC composite; the compatible field grows to 16 bytes, luo_ser to 40"))
    v.append(
      .init(
        name: "luo-features", component: .luo, ordinal: 9, strings: [], role: .subBlob,
        status: .linuxMM, onMismatch: Mismatch.luo, requires: [blobSize, blocks],
        source: "payloads §13.1; kho-abi §6.6",
        notes:
          "toolkit name: no string; a 128-byte feature header (supp = req = active = 0x7) where the string was, 152-byte luo_ser; luo-v5 lists; handlers named without a version"
      ))

    // memfd (§7).
    v.append(
      .init(
        name: "memfd-v1", component: .memfd, ordinal: 1, role: .fileHandler, nests: ["vmalloc-v1"],
        status: .mainline, onMismatch: Mismatch.handler, source: "kho-abi §7",
        notes: "40-byte memfd_luo_ser; a pre-merge FDT form used the same string [unsure packing]"))
    v.append(
      .init(
        name: "memfd-v2", component: .memfd, ordinal: 2, role: .fileHandler, nests: ["vmalloc-v1"],
        status: .mainline, onMismatch: Mismatch.handler, source: "kho-abi §7",
        notes: "48 bytes: adds seals and flags; release [unsure]"))
    v.append(
      .init(
        name: "memfd-v2;vmalloc-v1", component: .memfd, ordinal: 3, role: .fileHandler,
        nests: ["vmalloc-v1"], status: .linuxMM, onMismatch: Mismatch.handler, source: "kho-abi §7, §9.3",
        notes: "RFC composite; layout as memfd-v2"))
    v.append(
      .init(
        name: "memfd", component: .memfd, ordinal: 4, role: .fileHandler, nests: ["vmalloc-v1"],
        status: .linuxMM, onMismatch: Mismatch.handler, source: "payloads §13.1",
        notes:
          "the feature-flag LUO's handler name (no version): 176 bytes, a 128-byte feature header (SEALS, FOLIOS) before the memfd-v2 fields"
      ))

    // Payloads of VMs and memory (payloads.md §1, §6–§10; Specs/payloads.md).
    func payload(
      _ name: String, _ component: ComponentID, _ role: ComponentRole, _ status: VersionStatus, _ source: String,
      ordinal: Int = 1, strings: [String]? = nil, _ notes: String
    ) -> ComponentVersion {
      .init(
        name: name, component: component, ordinal: ordinal, strings: strings, role: role, status: status,
        onMismatch: role == .flb ? Mismatch.flb : role == .subBlob ? Mismatch.subNode : Mismatch.handler,
        source: source, notes: notes)
    }
    v.append(
      payload(
        "guest_memfd_luo_v1", "guest_memfd_luo", .fileHandler, .linuxMM, "payloads §1.1",
        "48 bytes; order-0 folio array through kho_vmalloc; vm_token names the VM file of the session"))
    v.append(
      payload(
        "kvm_vm_luo_v1", "kvm_vm_luo", .fileHandler, .linuxMM, "payloads §1.2",
        "three layouts under one string (K-A memory attributes, K-B arch state, K-C page-table folios), told apart by content"
      ))
    v.append(
      payload(
        "kvm_vcpu_luo_v1", "kvm_vcpu_luo", .fileHandler, .proposal, "payloads §1.3",
        "32 bytes (V-1; V-2 swaps the pointers); x86 arch state; caretaker control blocks CB-1, CB-2, CB-3"))
    v.append(
      payload("hugetlb-v1", "hugetlb", .flb, .developerTree, "payloads §6", ordinal: 2, "37 bytes: four hstate slots"))
    v.append(
      payload(
        "huge-memfd-v1", "huge-memfd", .fileHandler, .developerTree, "payloads §6",
        "41 bytes; folios of one hstate order"))
    v.append(payload("tmpfs-mnt-v1", "tmpfs-mnt", .fileHandler, .developerTree, "payloads §9", "16 bytes"))
    v.append(
      payload(
        "tmpfs-file-v1", "tmpfs-file", .fileHandler, .developerTree, "payloads §9",
        "312 bytes; mnt_token names the mount file"))
    v.append(
      payload(
        "mshv_kho-v1", "mshv", .subBlob, .developerTree, "payloads §7",
        "sub-FDT mshv_prsv_pt: a radix tree of deposited pages (M-B: (pfn, order) keys; M-A: raw PFN keys), partition ids"
      ))
    v.append(
      payload(
        "hwpoison-metadata-v1", "hwpoison", .subBlob, .developerTree, "payloads §8", strings: [],
        "toolkit name: the raw 32-byte sub-blob hwpoison (u32 version 1), no string"))
    v.append(
      payload(
        "hwpoison-v1", "hwpoison", .subBlob, .developerTree, "payloads §8", ordinal: 2,
        "the sub-FDT form: count and a raw kho_vmalloc of PFNs"))
    v.append(
      payload(
        "pstore-ser-v1", "pstore-kho", .subBlob, .developerTree, "payloads §10", ordinal: 2, strings: [],
        "toolkit name: the raw pstore_ser (u32 version 1) of the pstore-kho node, no string"))
    v.append(
      payload(
        "pstore-kho-v1", "pstore-kho", .subBlob, .developerTree, "payloads §10",
        "sub-FDT form; the record it points to is kernel-native, not ABI"))

    // Devices that stay attached (payloads.md §2–§5, §11–§12; Specs/pci.md, iommu.md, cpu.md).
    v.append(
      payload("pci-v1", "pci", .flb, .developerTree, "payloads §2", "three layouts (P1–P3) told apart by content"))
    v.append(
      payload(
        "pci-v2", "pci", .flb, .linuxMM, "payloads §2", ordinal: 2,
        "three layouts (P4–P6): u32 or u64 counts, or a block-v1 chain"))
    v.append(
      payload(
        "pci", "pci", .flb, .developerTree, "payloads §2", ordinal: 3,
        "P7: u32 version (1, 2) in the struct, devices in a block-v1 chain; version 2 refcounts count devices at or below a bridge"
      ))
    v.append(
      payload(
        "vfio-pci-v1", "vfio-pci", .fileHandler, .proposal, "payloads §3",
        "six layouts (V1–V6); the PCI FLB's devices settle the reading"))
    v.append(payload("vfio-pci-v2", "vfio-pci", .fileHandler, .proposal, "payloads §3", ordinal: 2, "V7: 11 bytes"))
    v.append(payload("iommu-v1", "iommu", .flb, .proposal, "payloads §4", "I1: 48-byte top, 9-byte object headers"))
    v.append(
      payload(
        "iommu-liveupdate-v1", "iommu", .flb, .proposal, "payloads §4", ordinal: 2,
        "I2 (5-byte headers) and I3 (8-byte headers), told apart by consistency"))
    v.append(
      payload(
        "iommu-liveupdate", "iommu", .flb, .proposal, "payloads §4", ordinal: 3, "I4 and I5 behind a u64 version (1)"))
    v.append(
      payload("iommufd-v0", "iommufd", .subBlob, .preMerge, "payloads §5.2", "the 2024 RFC's KHO device-tree node"))
    v.append(
      payload("iommufd-v1", "iommufd", .fileHandler, .proposal, "payloads §5.1", ordinal: 2, "8 + 24·n bytes of HWPTs"))
    v.append(
      payload(
        "cpu_flb_v1", "cpu-flb", .flb, .developerTree, "payloads §11",
        "five layouts (C1–C5); content tells them apart weakly"))
    v.append(
      payload("cpu_fh_v1", "cpu-fh", .fileHandler, .developerTree, "payloads §11", "per-CPU state; C2 by its magic"))
    v.append(
      opaque(
        "rxe-liveupdate-v1", "rxe", .fileHandler, .developerTree, "payloads §12",
        "a stub: registers the string, preserves nothing; reported as an unexpected handler"))

    // Other KHO sub-blobs (§4).
    v.append(
      .init(
        name: "kexec-metadata-v1", component: .kexecMetadata, ordinal: 1, strings: [], role: .subBlob,
        status: .mainline, onMismatch: Mismatch.metadata, source: "kho-abi §4.3",
        notes: "toolkit name: a raw 73-byte struct whose first u32 is the version (1), no string"))
    v.append(
      .init(
        name: "memblock-v1", component: .memblock, ordinal: 1, role: .subBlob, nests: ["reserve-mem-v1"],
        status: .mainline, onMismatch: Mismatch.memblock, source: "kho-abi §4.4"))
    v.append(
      .init(
        name: "reserve-mem-v1", component: .reserveMem, ordinal: 1, role: .subNode, status: .mainline,
        onMismatch: Mismatch.memblock, source: "kho-abi §4.4"))

    // KHO xarray (§8.1).
    v.append(
      .init(
        name: "kho-xarray-v1", component: .khoXArray, ordinal: 1, strings: [], role: .embedded,
        status: .developerTree, onMismatch: Mismatch.toolkit, source: "kho-abi §8.1",
        notes: "toolkit name for the layout of Pratyush Yadav's WIP prototype; no string upstream"))
    v.append(
      .init(
        name: "kho-xarray-v2", component: .khoXArray, ordinal: 2, role: .embedded, status: .toolkit,
        onMismatch: Mismatch.toolkit, source: "DESIGN.md (KHO xarray)",
        notes: "the toolkit's own: stored zeros, marks, fitted depth, self-describing header, checksums"))

    // Recognised but opaque (§4.5, §6.5, §8).
    func opaque(
      _ name: String, _ component: ComponentID, _ role: ComponentRole, _ status: VersionStatus,
      _ source: String, ordinal: Int = 1, _ notes: String? = nil
    ) -> ComponentVersion {
      .init(
        name: name, component: component, ordinal: ordinal, role: role, status: status, scope: .opaque,
        onMismatch: role == .flb ? Mismatch.flb : Mismatch.handler, source: source, notes: notes)
    }
    v.append(
      opaque("kho-test-v1", "kho-test", .subBlob, .mainline, "kho-abi §4.5", "lib/test_kho.c sub-FDT `kho_test`"))
    v.append(
      opaque(
        "hugetlb", "hugetlb", .flb, .developerTree, "liveupdate-design §4.1", "unversioned early name"))
    return v
  }()

  /// String families recognised by pattern: `liveupdate-test-flb-v<i>` (CONFIG_LIVEUPDATE_TEST).
  ///
  /// Each `<i>` is a separate test FLB, not a version, so each string is its own component.
  static let opaquePatterns: [(prefix: String, role: ComponentRole, source: String)] = [
    ("liveupdate-test-flb-v", .flb, "kho-abi §6.5")
  ]
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// One `struct kvm_luo_mem_attr` (16 bytes): a guest frame's memory attributes.
public struct KVMMemoryAttribute: Hashable, Sendable {
  /// `KVM_MEMORY_ATTRIBUTE_PRIVATE`.
  public static let `private`: UInt64 = 1 << 3
  public var gfn: UInt64
  public var attributes: UInt64
  public init(gfn: UInt64, attributes: UInt64) {
    self.gfn = gfn
    self.attributes = attributes
  }
}

/// One uAPI `struct kvm_cpuid_entry2` (40 bytes).
public struct KVMCPUIDEntry: Hashable, Sendable {
  public var function: UInt32
  public var index: UInt32
  public var flags: UInt32
  public var eax: UInt32
  public var ebx: UInt32
  public var ecx: UInt32
  public var edx: UInt32
  public init(
    function: UInt32, index: UInt32 = 0, flags: UInt32 = 0, eax: UInt32 = 0, ebx: UInt32 = 0, ecx: UInt32 = 0,
    edx: UInt32 = 0
  ) {
    self.function = function
    self.index = index
    self.flags = flags
    self.eax = eax
    self.ebx = ebx
    self.ecx = ecx
    self.edx = edx
  }
}

/// A preserved KVM VM (`kvm_vm_luo_v1`): one string, three layouts.
///
/// - K-A (32 bytes): `type`, `nr_mem_attrs`, `mem_attrs` (``VMallocDescriptor``
///   → ``KVMMemoryAttribute`` entries).
/// - K-B (16 bytes): `type`, `arch_state` → x86 `{u32 cpuid_nent; kvm_cpuid_entry2[]}`.
/// - K-C (16 bytes): `type`, `kho_folios` → `{u64 nr_folios; u64 folios_pa[]}`,
///   the VM's secondary page-table pages.
///
/// A VM with nothing past `type` reads the same in all three: ``Layout/typeOnly``.
public struct KVMVMPayload: PayloadState, Hashable {
  /// Which layout was read.
  public enum Layout: String, Sendable, Hashable, CaseIterable {
    case memoryAttributes = "K-A"
    case archState = "K-B"
    case pageTableFolios = "K-C"
    /// Only `type` is set; every layout reads this the same.
    case typeOnly = "type-only"
    /// The second word is a pointer whose target fits neither K-B nor K-C.
    case ambiguous
  }

  public var layout: Layout
  /// `kvm->arch.vm_type` (x86 `KVM_X86_*_VM`), the arm64 IPA shift, or 0.
  public var type: UInt64
  /// K-A: the memory attributes.
  public var memoryAttributes: [KVMMemoryAttribute] = []
  /// K-A: the array's descriptor as read.
  public var memoryAttributeArray: VMallocDescriptor = .empty
  /// K-B / K-C (and an ambiguous blob): the pointer at offset 8.
  public var pointer: PhysAddr = .zero
  /// K-B: the CPUID entries.
  public var cpuid: [KVMCPUIDEntry] = []
  /// K-C: the page-table pages.
  public var pageTables: [PhysAddr] = []

  public init(layout: Layout, type: UInt64) {
    self.layout = layout
    self.type = type
  }

  public var fields: PayloadValue {
    var out: [(String, PayloadValue)] = [("type", .int(type))]
    switch layout {
    case .memoryAttributes, .typeOnly:
      out.append(("nr_mem_attrs", .int(UInt64(memoryAttributes.count))))
      out.append(
        (
          "mem_attrs",
          .vmalloc(
            memoryAttributeArray,
            entries: memoryAttributes.map { .object([("gfn", .hex($0.gfn)), ("attributes", .hex($0.attributes))]) })
        ))
    case .archState:
      out.append(("arch_state", .hex(pointer.rawValue)))
      out.append(("cpuid_nent", .int(UInt64(cpuid.count))))
      out.append(
        (
          "cpuid_entries",
          .array(
            cpuid.map {
              .object([
                ("function", .hex(UInt64($0.function))), ("index", .int(UInt64($0.index))),
                ("flags", .int(UInt64($0.flags))),
                ("eax", .hex(UInt64($0.eax))), ("ebx", .hex(UInt64($0.ebx))), ("ecx", .hex(UInt64($0.ecx))),
                ("edx", .hex(UInt64($0.edx))),
              ])
            })
        ))
    case .pageTableFolios:
      out.append(("kho_folios", .hex(pointer.rawValue)))
      out.append(("nr_folios", .int(UInt64(pageTables.count))))
      out.append(("folios_pa", .array(pageTables.map { .hex($0.rawValue) })))
    case .ambiguous:
      out.append(("pointer", .hex(pointer.rawValue)))
    }
    return .object(out)
  }
}

/// The `kvm_vm_luo_v1` file handler's codec.
public enum KVMVM: PayloadCodec {
  public static let compatible = "kvm_vm_luo_v1"
  /// Bytes of K-A; K-B and K-C are 16 (their allocation is zeroed past that).
  public static let memoryAttributesSize = 32
  /// The most CPUID entries KVM takes (`KVM_MAX_CPUID_ENTRIES`).
  public static let maxCPUIDEntries = 256
  public static var names: [(String, PayloadHost)] { [(compatible, .file)] }

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError)
    -> DecodedPayload
  {
    let g = c.geometry
    var r = try _PayloadArrays.header(c, size: memoryAttributesSize)
    let type = try r.u64()
    let word1 = try r.u64()
    let descriptor = try VMallocDescriptor(reading: &r)
    var refs = [PayloadReference(.metadata, c.address, path: c.path, what: "kvm_luo_ser")]
    func done(_ s: KVMVMPayload, _ why: String?) -> DecodedPayload {
      DecodedPayload(
        compatible: c.compatible, format: "\(compatible) \(s.layout.rawValue)", layoutReason: why, address: c.address,
        state: s, references: refs)
    }
    // K-A: a descriptor at 16..31, or a count that is no page-aligned pointer.
    let pointer = PhysAddr(word1)
    if !descriptor.isEmpty || (word1 != 0 && !pointer.isPageAligned(g)) {
      var s = KVMVMPayload(layout: .memoryAttributes, type: type)
      s.memoryAttributeArray = descriptor
      var ar = try _PayloadArrays.read(
        descriptor, declared: word1, entrySize: 16, countName: "nr_mem_attrs", memory: c.memory,
        path: c.path.appending("mem_attrs"), descriptorAddress: c.address.advanced(by: 16),
        countAddress: c.address.advanced(by: 8), what: "memory attribute", problems: &problems, references: &refs)
      while ar.remaining >= 16 {
        s.memoryAttributes.append(KVMMemoryAttribute(gfn: try ar.u64(), attributes: try ar.u64()))
      }
      return done(s, "bytes 16-31 hold a kho_vmalloc descriptor")
    }
    if word1 == 0 {
      return done(KVMVMPayload(layout: .typeOnly, type: type), "only type is set")
    }
    // K-B or K-C: follow the pointer and see which shape fits.
    let limit = c.allocationBytes(at: pointer, fallbackPages: 1)
    let targetPath = c.path.appending("arch_state|kho_folios")
    let bytes = Swift.min(limit, g.pageSize << 4)
    guard let target = try? c.memory.reader(at: pointer, count: Swift.min(bytes, 4096), path: targetPath) else {
      try problems.report(
        DecodeError(
          .notCaptured, "the pointer at offset 8 (\(pointer)) is not captured: K-B or K-C cannot be told apart",
          path: c.path, address: pointer))
      var s = KVMVMPayload(layout: .ambiguous, type: type)
      s.pointer = pointer
      return done(s, "pointer target not captured")
    }
    let fitsC = plausiblePageTableList(target, limit: limit, g)
    let fitsB = plausibleCPUID(target, limit: limit)
    if fitsC == fitsB {
      try problems.report(
        DecodeError(
          .inconsistent,
          fitsC
            ? "the pointer at offset 8 reads as both a CPUID state (K-B) and a page-table list (K-C); not guessing"
            : "the pointer at offset 8 reads as neither a CPUID state (K-B) nor a page-table list (K-C)",
          path: c.path, address: pointer))
      var s = KVMVMPayload(layout: .ambiguous, type: type)
      s.pointer = pointer
      return done(s, fitsC ? "fits K-B and K-C" : "fits neither K-B nor K-C")
    }
    if fitsC {
      var s = KVMVMPayload(layout: .pageTableFolios, type: type)
      s.pointer = pointer
      let p = c.path.appending("kho_folios")
      let n = try target.integer(at: 0, as: UInt64.self)
      let need = 8 + 8 * Int(n)
      let list: ByteReader
      do {
        list = try c.memory.reader(at: pointer, count: need, path: p)
      } catch {
        try problems.report(error)
        return done(s, "the pointer's target is a count and page-aligned page-table addresses")
      }
      refs.append(
        PayloadReference(
          .metadata, pointer, pages: UInt64((need + g.pageSize - 1) / g.pageSize), path: p,
          what: "page-table folio list"))
      for i in 0..<Int(n) {
        let a = PhysAddr(try list.integer(at: 8 + 8 * i, as: UInt64.self))
        if a.isZero || !a.isPageAligned(g) {
          try problems.report(
            DecodeError(
              .misaligned, "folios_pa[\(i)] \(a) is zero or not page aligned", path: p.index(i),
              address: pointer.advanced(by: UInt64(8 + 8 * i))))
          continue
        }
        s.pageTables.append(a)
        refs.append(PayloadReference(.folio, a, order: 0, path: p.index(i), what: "secondary page-table page"))
      }
      return done(s, "the pointer's target is a count and page-aligned page-table addresses")
    }
    var s = KVMVMPayload(layout: .archState, type: type)
    s.pointer = pointer
    let p = c.path.appending("arch_state")
    let n = Int(try target.integer(at: 0, as: UInt32.self))
    let need = 4 + 40 * n
    let arch: ByteReader
    do {
      arch = try c.memory.reader(at: pointer, count: need, path: p)
    } catch {
      try problems.report(error)
      return done(s, "the pointer's target is a CPUID entry count and entries")
    }
    refs.append(
      PayloadReference(
        .metadata, pointer, pages: UInt64((need + g.pageSize - 1) / g.pageSize), path: p, what: "VM arch state"))
    for i in 0..<n {
      var e = arch
      try e.seek(to: 4 + 40 * i)
      s.cpuid.append(
        KVMCPUIDEntry(
          function: try e.u32(), index: try e.u32(), flags: try e.u32(), eax: try e.u32(), ebx: try e.u32(),
          ecx: try e.u32(), edx: try e.u32()))
    }
    return done(s, "the pointer's target is a CPUID entry count and entries")
  }

  /// K-C's list: a count whose entries fit the allocation, the first few
  /// non-zero and page aligned.
  static func plausiblePageTableList(_ r: ByteReader, limit: Int, _ g: PageGeometry) -> Bool {
    guard let n = try? r.integer(at: 0, as: UInt64.self), n >= 1, n <= UInt64((limit - 8) / 8) else { return false }
    for i in 0..<Int(Swift.min(n, 4)) {
      guard let w = try? r.integer(at: 8 + 8 * i, as: UInt64.self), w != 0, w & g.pageMask == 0 else { return false }
    }
    return true
  }

  /// K-B's x86 state: a CPUID count KVM allows, entries that fit, and the
  /// first entry's `index` and `flags` as leaf 0 has them (0).
  static func plausibleCPUID(_ r: ByteReader, limit: Int) -> Bool {
    guard let n = try? r.integer(at: 0, as: UInt32.self), n <= UInt32(maxCPUIDEntries), 4 + 40 * Int(n) <= limit else {
      return false
    }
    if n == 0 { return (try? r.integer(at: 4, as: UInt32.self)) == 0 }
    return (try? r.integer(at: 8, as: UInt32.self)) == 0 && (try? r.integer(at: 12, as: UInt32.self)) == 0
  }

  /// Writes `state` in its layout; returns the address for the file's `data`.
  public static func encode(_ state: KVMVMPayload, into w: inout PayloadWriter, path: DecodePath = .root)
    throws(EncodeError) -> PhysAddr
  {
    var s = _PayloadWriter(w.order)
    s.u64(state.type)
    switch state.layout {
    case .memoryAttributes, .typeOnly:
      var array = _PayloadWriter(w.order)
      for a in state.memoryAttributes {
        array.u64(a.gfn)
        array.u64(a.attributes)
      }
      let d = try w.array(array.bytes, path: path.appending("mem_attrs"))
      s.u64(UInt64(state.memoryAttributes.count))
      s.descriptor(d)
    case .archState:
      guard state.cpuid.count <= maxCPUIDEntries else {
        throw EncodeError(
          .outOfRange, "\(state.cpuid.count) CPUID entries; KVM takes at most \(maxCPUIDEntries)", path: path)
      }
      var a = _PayloadWriter(w.order)
      a.u32(UInt32(state.cpuid.count))
      for e in state.cpuid {
        for v in [e.function, e.index, e.flags, e.eax, e.ebx, e.ecx, e.edx] { a.u32(v) }
        a.zeros(12)
      }
      s.u64(try w.place(a).rawValue)
    case .pageTableFolios:
      var a = _PayloadWriter(w.order)
      a.u64(UInt64(state.pageTables.count))
      for p in state.pageTables { a.u64(p.rawValue) }
      s.u64(try w.place(a).rawValue)
    case .ambiguous:
      throw EncodeError(.notRepresentable, "an ambiguous VM has no layout to write", path: path)
    }
    return try w.place(s)
  }
}

extension KVMVMPayload {
  public func summary(_ g: PageGeometry) -> String {
    switch layout {
    case .memoryAttributes:
      "type \(type), \(memoryAttributes.count) memory attribute\(memoryAttributes.count == 1 ? "" : "s")"
    case .archState: "type \(type), \(cpuid.count) CPUID entr\(cpuid.count == 1 ? "y" : "ies")"
    case .pageTableFolios: "type \(type), \(pageTables.count) page-table page\(pageTables.count == 1 ? "" : "s")"
    case .typeOnly: "type \(type)"
    case .ambiguous: "type \(type), layout unknown (pointer \(pointer))"
    }
  }
}

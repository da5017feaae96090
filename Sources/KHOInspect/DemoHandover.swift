// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats
import XArray

/// A representative handover built in memory, for `khodump demo` and tests.
///
/// A kho-v4 root FDT (written the way the kernel's libfdt calls leave it)
/// with a radix-v1 preserved-memory map of thousands of entries of mixed
/// orders; a luo-v5 `LUO` blob with six sessions whose files are memfds
/// (memfd-v2) — one of them large enough that its folio array spans two
/// vmalloc chunks — and an FLB; kexec metadata; and a kho-xarray-v2 map of
/// the big memfd's folios (index → pfn, dirty folios marked). Every page
/// the handover refers to is in the preserved set, as the kernel would
/// leave it. The same call always builds the same bytes.
public struct DemoHandover {
  /// The image holding every page of the handover.
  public let image: PhysicalImage
  /// The physical address of the KHO root FDT.
  public let rootAddress: PhysAddr
  /// What was preserved (the map's content).
  public let preserved: PreservedSet
  /// The LUO state that was written.
  public let luo: LUOState

  /// Sessions and files of the demo.
  static let sessions = ["vm-00", "vm-01", "vm-02", "agent-state", "vm-03", "empty-session"]
  /// Folios of the big memfd: more than one vmalloc chunk of folio-array pages.
  static func bigMemfdFolios(_ g: PageGeometry) -> Int {
    let perPage = g.pageSize / Memfd.folioEntrySize
    let chunkPages = (g.pageSize - 8) / 8
    return perPage * (chunkPages + 8)
  }

  /// Builds the demo handover.
  public static func build(geometry g: PageGeometry = .x86_64) throws -> DemoHandover {
    let image = PhysicalImage(geometry: g)
    let order = g.byteOrder
    // Handover metadata lives in one range, user data in another.
    var meta = PageAllocator(start: 0x1_0000_0000, pages: 1 << 16, geometry: g)
    var data = PageAllocator(start: 0x2_0000_0000, pages: 1 << 20, geometry: g)
    var set = PreservedSet(geometry: g)

    let rootPage = try meta.allocate(in: image)

    // Sessions of memfds with real contents, plus one big memfd whose folio
    // data is not in the image (only its metadata is).
    var luoSessions: [LUOSession] = []
    var bigFolios: [MemfdFolio] = []
    for (i, name) in sessions.enumerated() {
      var files: [LUOFile] = []
      let fileCount = name == "empty-session" ? 0 : (i % 3) + 1
      for j in 0..<fileCount {
        let text = "memfd \(j) of session \(name): guest memory that must survive the kexec.\n"
        let contents = Array(String(repeating: text, count: 40 + 30 * j).utf8)
        let (addr, _) = try Memfd.encodeFile(
          contents: contents, pos: UInt64(contents.count), seals: j == 0 ? 0x1 : 0, as: .v2,
          into: image, allocator: &data)
        files.append(LUOFile(compatible: MemfdVersion.v2.rawValue, token: UInt64(0x1000 + j), data: addr))
      }
      if name == "vm-00" {
        let count = bigMemfdFolios(g)
        // Guest memory of its own, away from every allocator's range.
        let base: UInt64 = 0x80_0000
        bigFolios = (0..<count).map {
          MemfdFolio(
            pfn: base + UInt64($0), flags: $0 % 7 == 0 ? MemfdFolio.dirty : MemfdFolio.uptodate, index: UInt64($0))
        }
        let state = MemfdState(pos: 0, size: UInt64(count * g.pageSize), folios: bigFolios)
        let addr = try Memfd.encode(state, as: .v2, into: image, allocator: &meta)
        files.append(LUOFile(compatible: MemfdVersion.v2.rawValue, token: 0xbeef, data: addr))
      }
      luoSessions.append(LUOSession(name: name, files: files))
    }
    // A KVM guest: the VM, its two guest_memfds, two vCPUs, and a
    // HugeTLB-backed memfd with the hugetlb FLB that sizes its pool.
    var payloads = PayloadWriter(
      image: image, allocator: PageAllocator(start: 0x1_8000_0000, pages: 1 << 12, geometry: g))
    let vm = try DemoVM.write(into: &payloads, geometry: g)
    let dev = try DemoDevices.write(
      into: &payloads, guest: vm.folios.filter { $0.order == 0 }.map(\.phys),
      huge: vm.folios.filter { $0.order > 0 }.map(\.phys))
    luoSessions.append(LUOSession(name: DemoVM.session, files: vm.files + dev.files))
    let luo = LUOState(
      liveUpdateNumber: 3, sessions: luoSessions,
      flbs: [
        LUOFLB(name: "iommu-liveupdate-v1", data: dev.iommuFLB.rawValue, count: 1),
        LUOFLB(name: HugeTLBFLB.name, data: vm.hugetlbFLB.rawValue, count: 1),
        LUOFLB(name: "pci", data: dev.pciFLB.rawValue, count: 3),
      ])
    let luoBlob = try LUO.encode(luo, as: .v5, into: image, allocator: &meta)

    // Kexec metadata, one page.
    let metaPage = try meta.allocate(in: image)
    let md = KexecMetadata(previousRelease: "6.19.0-demo", kexecCount: 3)
    image.write(try md.encoded(byteOrder: order), at: metaPage)

    // The big memfd's folios as a kho-xarray-v2: index → pfn, dirty marked.
    var folioMap = XArray<UInt64>()
    for f in bigFolios {
      _ = folioMap.store(f.pfn, at: f.index)
      if f.flags & MemfdFolio.dirty != 0 { _ = folioMap.setMark(.mark0, at: f.index) }
    }
    let xarrayAddr = try KHOXArrayV2.encode(folioMap, into: image, allocator: &meta)

    // Preserve what the kernel would: every metadata page written so far
    // (the radix tree's own pages are never in the map), the data folios,
    // and some huge folios of guest memory.
    for page in meta.allocated {
      _ = try set.insert(page, order: 0)
    }
    for page in data.allocated { _ = try set.insert(page, order: 0) }
    for f in bigFolios { _ = try set.insert(pfn: f.pfn, order: 0) }
    for e in payloads.preserved + vm.folios { _ = try set.insert(e) }
    for k in 0..<64 { _ = try set.insert(pfn: 0x30_0000 + UInt64(k) * 512, order: 9) }
    for k in 0..<8 { _ = try set.insert(pfn: 0x40_0000 + UInt64(k) * 1024, order: 10) }
    // A range the way kho_preserve_pages() splits it.
    try set.preserve(pages: 0x50_0003..<0x50_1000)

    let mapRoot = try RadixTree.encode(set, into: image, allocator: &meta)
    let root = KHORoot(
      version: .v4, memoryMap: mapRoot,
      subBlobs: [
        KHOSubBlob(name: KexecMetadata.nodeName, address: metaPage, size: UInt64(KexecMetadata.size)),
        KHOSubBlob(name: LUO.subnodeName, address: luoBlob.blob, size: luoBlob.size),
        KHOSubBlob(name: "kho-xarray", address: xarrayAddr, size: UInt64(KHOXArrayV2.headerSize)),
      ])
    image.write(try root.encode(byteOrder: order, layout: .kernel(pageSize: g.pageSize)), at: rootPage)
    return DemoHandover(image: image, rootAddress: rootPage, preserved: set, luo: luo)
  }

  /// Reads the root FDT back out of the image.
  public func readRoot() throws(DecodeError) -> FDT {
    let page = try image.bytes(at: rootAddress, count: image.geometry.pageSize, path: .root)
    return try FDT(parsing: page, allowTrailingBytes: true)
  }
}

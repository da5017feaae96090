// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats
import XArray

/// A handover decoded into a ``HandoverModel``, with where its old metadata lies.
public struct DecodedHandover: Sendable {
  /// The version-independent model.
  public var model: HandoverModel
  /// Every preserved entry, as the map says.
  public var preserved: PreservedSet
  /// Pages of the structures the encoder writes afresh (root FDT, LUO,
  /// memfd state and folio arrays, kexec metadata, xarrays): preserved in
  /// the old handover, dropped from the new one.
  public var metadataPages: Set<UInt64>
  /// Pages of the preserved-memory map itself (never preserved).
  public var mapPages: Set<UInt64>
  /// One past the highest byte the handover holds or refers to.
  public var highestAddress: UInt64
}

extension HandoverModel {
  /// The largest root FDT read (the kernel writes one page).
  public static let maxRootSize = 1 << 20

  /// Decodes the handover whose root FDT is at `root`, strictly: the first
  /// problem is thrown, since a converted handover must say everything the
  /// old one did.
  ///
  /// Sub-blobs are recognised as the walker does: `LUO` (any version, with
  /// the memfd state of every file whose handler is a memfd version),
  /// `kexec-metadata` (raw), a kho-xarray-v2 by its magic or a sub-blob
  /// named `kho-xarray…` as kho-xarray-v1; anything else is opaque and kept
  /// in place.
  public static func decode(from memory: any PhysicalMemory, root: PhysAddr) throws(DecodeError) -> DecodedHandover {
    let g = memory.geometry
    let order = g.byteOrder
    // Root FDT.
    let head = try memory.bytes(at: root, count: FDTHeader.size, path: .root)
    let total = Int(try FDTHeader(reading: head).totalSize)
    guard total <= maxRootSize else {
      throw DecodeError(.limitExceeded, "root FDT totalsize \(total) is implausible", path: .root, address: root)
    }
    let fdt = try FDT(parsing: try memory.bytes(at: root, count: total, path: .root))
    let kho = try KHORoot.decode(fdt, byteOrder: order)
    var metadata = Set<UInt64>()
    let rootRec = _PageRecorder(memory)
    rootRec.record(PhysRange(start: root, size: UInt64(total)))
    metadata.formUnion(rootRec.pages)
    var highest = PhysRange(start: root, size: UInt64(total)).end

    // Preserved-memory map.
    let mapRec = _PageRecorder(memory)
    let set = try PreservedMemoryMap.decode(
      kho.version.memoryMapFormat, from: mapRec, at: kho.memoryMap,
      path: DecodePath.root.appending("preserved-memory-map"))

    // Sub-blobs.
    var blobs: [SubBlob] = []
    var opaqueRanges: [PhysRange] = []
    // Pages something points at as data (memfd folios, other handlers' and
    // FLBs' data): never dropped as metadata, even where a metadata
    // structure shares the page.
    var dataPages = Set<UInt64>()
    for b in kho.subBlobs {
      let path = Self.path(b.name)
      let rec = _PageRecorder(memory)
      let first = try memory.bytes(at: b.address, count: 4, path: path)
      let isFDT = (try? ByteReader(first, order: .big).integer(at: 0, as: UInt32.self)) == FDTHeader.magicValue
      let word = (try? ByteReader(first, order: order).integer(at: 0, as: UInt32.self)) ?? 0
      let content: Content
      if b.name == LUO.subnodeName {
        let d = try LUO.decode(from: rec, blob: b.address, size: b.size, path: path)
        // Whole regions, not only the bytes read: the kernel allocates and
        // preserves the 16-page session region and each 2-page file array.
        if d.version.sessionLayout == .array, !d.layout.sessions.isZero {
          rec.record(PhysRange(start: d.layout.sessions, size: UInt64(LUOLimits.sessionRegionPages) * g.pageSize64))
        }
        if d.version.fileLayout == .array {
          for f in d.layout.fileSets where !f.files.isZero {
            rec.record(PhysRange(start: f.files, size: UInt64(LUOLimits.fileArrayPages) * g.pageSize64))
          }
        }
        var memfds: [FileRef: MemfdModel] = [:]
        for (i, s) in d.state.sessions.enumerated() {
          for (j, f) in s.files.enumerated() {
            guard let v = MemfdVersion(compatible: f.compatible) else { continue }
            let ref = FileRef(session: i, file: j)
            let m = try Memfd.decode(from: rec, at: f.data, version: v, path: Self.path(ref).appending("memfd"))
            memfds[ref] = MemfdModel(version: v, state: m.state)
            for folio in m.state.folios where !folio.isEmpty {
              dataPages.insert(folio.pfn)
              if let a = folio.address(g) { highest = max(highest, PhysRange(start: a, size: g.pageSize64).end) }
            }
          }
        }
        for s in d.state.sessions {
          for f in s.files where MemfdVersion(compatible: f.compatible) == nil && !f.data.isZero {
            dataPages.insert(f.data.pfn(g))
          }
        }
        for f in d.state.flbs where f.data != 0 { dataPages.insert(f.data >> UInt64(g.pageShift)) }
        content = .luo(
          LUOModel(
            version: d.version, sessionCompatible: d.layout.sessionCompatible, flbNode: d.layout.flbNodePresent,
            state: d.state, memfds: memfds))
      } else if b.name == KexecMetadata.nodeName, !isFDT {
        let n = Int(min(b.size ?? UInt64(KexecMetadata.size), UInt64(g.pageSize)))
        let bytes = try rec.bytes(at: b.address, count: n, path: path)
        content = .kexecMetadata(try KexecMetadata(decoding: bytes, byteOrder: order, path: path, base: b.address))
      } else if !isFDT, word == KHOXArrayV2.magic {
        let view = try KHOXArrayV2View(memory: rec, at: b.address, path: path, verifyChecksums: true)
        content = .xarray(XArrayModel(version: .v2, array: view.makeXArray()))
      } else if !isFDT, b.name.hasPrefix("kho-xarray") {
        let view = try KHOXArrayV1View(memory: rec, root: b.address, path: path)
        rec.record(PhysRange(start: b.address, size: g.pageSize64))
        content = .xarray(XArrayModel(version: .v1, array: view.makeXArray()))
      } else {
        let size = try b.resolvedSize(in: memory)
        var compatible: String?
        if isFDT, size <= UInt64(maxRootSize),
          let f = try? FDT(
            parsing: try memory.bytes(at: b.address, count: Int(size), path: path), allowTrailingBytes: true)
        {
          compatible = f.root.property("compatible")?.string
        }
        let range = PhysRange(start: b.address, size: size)
        opaqueRanges.append(range)
        highest = max(highest, range.end)
        content = .opaque(OpaqueBlob(address: b.address, size: size, isFDT: isFDT, compatible: compatible))
      }
      metadata.formUnion(rec.pages)
      blobs.append(SubBlob(name: b.name, content: content))
    }
    // A page that also holds an opaque blob, or that data points at, stays preserved data.
    metadata.subtract(dataPages)
    // Walk the (bounded) metadata pages, not the opaque ranges, whose sizes come from the input.
    let shift = UInt64(g.pageShift)
    for p in metadata {
      let page = PhysRange(start: PhysAddr(p << shift), size: g.pageSize64)
      if opaqueRanges.contains(where: { $0.overlaps(page) }) { metadata.remove(p) }
    }
    // The preserved data: every entry that is not wholly old metadata.
    var data = set
    for e in set {
      highest = max(highest, PhysRange(start: e.phys, size: e.byteCount(g) ?? 0).end)
      if e.pageCount <= UInt64(metadata.count) {
        let pfn = e.pfn(g)
        if (0..<e.pageCount).allSatisfy({ metadata.contains(pfn + $0) }) { _ = data.remove(e) }
      }
    }
    for s in memory.segments { highest = max(highest, s.end) }
    for p in mapRec.pages { highest = max(highest, (p + 1) << UInt64(g.pageShift)) }
    let model = HandoverModel(
      geometry: g, rootVersion: kho.version, preservedData: data, subBlobs: blobs)
    return DecodedHandover(
      model: model, preserved: set, metadataPages: metadata, mapPages: mapRec.pages, highestAddress: highest)
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats
import XArray

/// Where ``HandoverModel/encode(into:metadata:map:)`` wrote a handover.
public struct EncodedHandover: Sendable {
  /// The KHO root FDT's page.
  public var root: PhysAddr
  /// The preserved-memory map's first node (0 for an empty kho-v1 map).
  public var mapRoot: PhysAddr
  /// The set written into the map: the model's data plus every new metadata page.
  public var preserved: PreservedSet
  /// Page frame numbers of the metadata written (all preserved).
  public var metadataPages: [UInt64]
  /// Page frame numbers of the map's own nodes (never preserved, like the kernel's).
  public var mapPages: [UInt64]
}

/// A handover re-encoded into a fresh image.
public struct RebuiltHandover {
  /// The new image: copied data pages, new metadata, new map.
  public var image: PhysicalImage
  public var encoded: EncodedHandover
  /// Captured pages copied from the old image to the same addresses.
  public var copiedPages: Int
  /// Where the new metadata starts (above everything the old handover used).
  public var metadataBase: PhysAddr
}

extension HandoverModel {
  /// Writes the handover's metadata into `image`: the root FDT page first,
  /// then each sub-blob (memfd states before the LUO that points at them),
  /// all from pages in `metadata`; then the preserved-memory map from pages
  /// in `map`. The preserved set is ``preservedData`` plus every page taken
  /// from `metadata` (as order-0 entries, like `kho_alloc_preserve` of one
  /// page); the map's own pages are not in it (kho-abi.md §3). The same
  /// model always gives the same bytes.
  ///
  /// - Throws: `EncodeError`: whatever a component's encoder refuses (a
  ///   version that cannot hold the content), `outOfMemory` when the ranges
  ///   are too small.
  public func encode(into image: PhysicalImage, metadata: PhysRange, map: PhysRange) throws(EncodeError)
    -> EncodedHandover
  {
    let g = geometry
    var meta = PageAllocator(ranges: [metadata], geometry: g)
    let rootPage = try meta.allocate(in: image)
    var linked: [KHOSubBlob] = []
    for b in subBlobs {
      let path = Self.path(b.name)
      var address: PhysAddr
      var size: UInt64
      switch b.content {
      case .luo(let l):
        var state = l.state
        for (ref, m) in l.memfds.sorted(by: { $0.key < $1.key }) {
          guard ref.session < state.sessions.count, ref.file < state.sessions[ref.session].files.count else {
            throw EncodeError(.outOfRange, "memfd state for a file that does not exist", path: Self.path(ref))
          }
          let a = try Memfd.encode(
            m.state, as: m.version, into: image, allocator: &meta, path: Self.path(ref).appending("memfd"))
          state.sessions[ref.session].files[ref.file].data = a
          state.sessions[ref.session].files[ref.file].compatible = m.version.rawValue
        }
        let e = try LUO.encode(
          state, as: l.version, into: image, allocator: &meta,
          options: LUOEncodeOptions(
            v1FLBNode: l.version != .v1 || l.flbNode,
            v1Sessions: l.sessionCompatible.flatMap(LUOSessionForm.init(rawValue:)) ?? .v2),
          path: path)
        address = e.blob
        size = e.size
      case .kexecMetadata(let m):
        address = try meta.allocate(in: image)
        image.write(try m.encoded(byteOrder: g.byteOrder), at: address)
        size = UInt64(KexecMetadata.size)
      case .xarray(let x):
        switch x.version {
        case .v1:
          address = try KHOXArrayV1.encode(x.array, into: image, allocator: &meta, path: path)
          // An empty v1 tree has no root table; link an all-zero one.
          if address.isZero { address = try meta.allocate(in: image) }
          size = g.pageSize64
        case .v2:
          address = try KHOXArrayV2.encode(x.array, into: image, allocator: &meta, path: path)
          size = UInt64(KHOXArrayV2.headerSize)
        }
      case .opaque(let o):
        address = o.address
        size = o.size
      }
      linked.append(KHOSubBlob(name: b.name, address: address, size: rootVersion.hasBlobSize ? size : nil))
    }
    let first = metadata.start.pfn(g)
    let end = metadata.end >> UInt64(g.pageShift)
    let metaPages = image.pageNumbers.filter { $0 >= first && $0 < end }
    var preserved = preservedData
    for p in metaPages { _ = try preserved.insert(pfn: p, order: 0) }
    var mapAlloc = PageAllocator(ranges: [map], geometry: g)
    let mapRoot = try PreservedMemoryMap.encode(
      preserved, as: rootVersion.memoryMapFormat, into: image, allocator: &mapAlloc)
    let mapFirst = map.start.pfn(g)
    let mapEnd = map.end >> UInt64(g.pageShift)
    let mapPages = image.pageNumbers.filter { $0 >= mapFirst && $0 < mapEnd }
    let root = KHORoot(version: rootVersion, memoryMap: mapRoot, subBlobs: linked)
    image.write(try root.encode(byteOrder: g.byteOrder, layout: .kernel(pageSize: g.pageSize)), at: rootPage)
    return EncodedHandover(
      root: rootPage, mapRoot: mapRoot, preserved: preserved, metadataPages: metaPages, mapPages: mapPages)
  }

  /// Pages reserved for new metadata, and again for the new map (4 GiB each with 4 KiB pages).
  public static let rebuildPages: UInt64 = 1 << 20

  /// Writes the handover into a new image, as a kernel would have left it.
  ///
  /// Every captured page of preserved data, and of each opaque sub-blob, is
  /// copied to the same physical address (memfd folios keep their PFNs).
  /// New metadata goes from the first 1 GiB boundary at or above `above`
  /// (pass ``DecodedHandover/highestAddress``), so it collides with nothing
  /// the old handover captured, preserved or pointed at; the new map
  /// follows it.
  ///
  /// - Throws: ``ConversionError``: `unreadableSource` when an opaque
  ///   sub-blob is not captured (it could not be carried over);
  ///   `encodeFailed` for an encoder's refusal or no room above `above`.
  public func rebuild(copyingFrom memory: any PhysicalMemory, above: UInt64) throws(ConversionError) -> RebuiltHandover
  {
    let g = geometry
    let image = PhysicalImage(geometry: g)
    // Data pages, clipped to what was captured.
    let segments = memory.segments
    func copy(_ range: PhysRange) throws(DecodeError) {
      var i = SegmentIndex.firstEnding(after: range.start, in: segments)
      while i < segments.count, segments[i].start.rawValue < range.end {
        let s = segments[i]
        let lo = max(s.start.rawValue, range.start.rawValue)
        let hi = min(s.end, range.end)
        if hi > lo {
          let bytes = try memory.bytes(at: PhysAddr(lo), count: Int(hi - lo))
          bytes.withUnsafeBytes { image.write($0, at: PhysAddr(lo)) }
        }
        i += 1
      }
    }
    do {
      for e in preservedData {
        guard let n = e.byteCount(g) else { continue }
        try copy(PhysRange(start: e.phys, size: n))
      }
      for b in subBlobs {
        guard case .opaque(let o) = b.content else { continue }
        let r = PhysRange(start: o.address, size: o.size)
        guard memory.isCaptured(r) else {
          throw ConversionError(
            .unreadableSource,
            "sub-blob \(b.name) (\(r)) is not captured, so it cannot be carried into the new image")
        }
        let start = o.address.rawValue & ~g.pageMask
        let end = (r.end + g.pageMask) & ~g.pageMask
        try copy(PhysRange(start: PhysAddr(start), size: end - start))
      }
    } catch let e as ConversionError {
      throw e
    } catch {
      throw ConversionError(.unreadableSource, "copying captured data failed: \(error)")
    }
    let copied = image.pageCount
    let gib: UInt64 = 1 << 30
    let span = Self.rebuildPages << UInt64(g.pageShift)
    let (rounded, o1) = above.addingReportingOverflow(gib - 1)
    let base = rounded & ~(gib - 1)
    let (mapBase, o2) = base.addingReportingOverflow(span)
    let (top, o3) = mapBase.addingReportingOverflow(span)
    guard !o1, !o2, !o3, top > mapBase else {
      throw ConversionError(.encodeFailed, "no room for new metadata above 0x\(String(above, radix: 16))")
    }
    do {
      let encoded = try encode(
        into: image, metadata: PhysRange(start: PhysAddr(base), size: span),
        map: PhysRange(start: PhysAddr(mapBase), size: span))
      return RebuiltHandover(image: image, encoded: encoded, copiedPages: copied, metadataBase: PhysAddr(base))
    } catch {
      throw ConversionError(.encodeFailed, "\(error)")
    }
  }
}

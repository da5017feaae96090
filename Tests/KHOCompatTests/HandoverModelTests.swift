// SPDX-License-Identifier: Apache-2.0
import KHOCompat
import KHOCore
import KHOFormats
import Testing
import XArray

/// The version-independent handover model: decode, convert, rebuild.
@Suite("Handover model")
struct HandoverModelTests {
  static let g = PageGeometry.x86_64

  /// A small handover every root version can link: a luo-v2 FDT of memfd-v1
  /// files, an opaque memblock FDT, a kho-xarray-v2 without marks — under
  /// `root`, except the xarray (raw) when the root has no blob-size.
  static func build(root: KHORootVersion, luo: LUOVersion = .v2, memfds: [MemfdVersion] = [.v1, .v1]) throws
    -> (PhysicalImage, PhysAddr)
  {
    let image = PhysicalImage(geometry: g)
    var set = PreservedSet(geometry: g)
    let fdt = try FDTBuilder.build(DeviceTreeNode("", properties: [.string("compatible", "memblock-v1")]))
    image.write(fdt, at: PhysAddr(0x8000_0000))
    _ = try set.insert(PhysAddr(0x8000_0000), order: 0)
    var files: [LUOFile] = []
    var models: [HandoverModel.FileRef: HandoverModel.MemfdModel] = [:]
    for (j, v) in memfds.enumerated() {
      let folios = (0..<4).map {
        MemfdFolio(pfn: 0x9_0000 + UInt64(j * 16 + $0), flags: MemfdFolio.uptodate, index: UInt64($0))
      }
      for f in folios {
        _ = try set.insert(pfn: f.pfn, order: 0)
        image.write(Array(repeating: UInt8(f.pfn & 0xff), count: 64), at: PhysAddr(f.pfn << 12))
      }
      files.append(LUOFile(compatible: v.rawValue, token: UInt64(j + 1), data: .zero))
      models[.init(session: 0, file: j)] = .init(version: v, state: MemfdState(pos: 3, size: 4 * 4096, folios: folios))
    }
    _ = try set.insert(pfn: 0x4_0000, order: 18)
    var blobs: [HandoverModel.SubBlob] = [
      .init(
        name: "memblock", content: .opaque(.init(address: PhysAddr(0x8000_0000), size: UInt64(fdt.count), isFDT: true))),
      .init(
        name: "LUO",
        content: .luo(
          .init(
            version: luo, sessionCompatible: luo == .v1 ? "luo-session-v2" : nil,
            state: LUOState(
              liveUpdateNumber: 5, sessions: [LUOSession(name: "vm", files: files), LUOSession(name: "empty")]),
            memfds: models))),
    ]
    if root.hasBlobSize {
      var x = XArray<UInt64>()
      for i in 0..<UInt64(50) { _ = x.store(i + 1, at: i * 3) }
      blobs.append(.init(name: "kho-xarray", content: .xarray(.init(version: .v2, array: x))))
    }
    let model = HandoverModel(geometry: g, rootVersion: root, preservedData: set, subBlobs: blobs)
    let e = try model.encode(
      into: image, metadata: PhysRange(start: PhysAddr(0x1_0000_0000), size: 1 << 28),
      map: PhysRange(start: PhysAddr(0x1_1000_0000), size: 1 << 28))
    return (image, e.root)
  }

  static func convert(_ image: PhysicalImage, _ root: PhysAddr, _ names: [String]) throws
    -> (before: DecodedHandover, after: DecodedHandover)
  {
    let d = try HandoverModel.decode(from: image, root: root)
    let (_, m) = try ModelConverter().run(d.model, targets: try ModelConverter.targets(names))
    let r = try m.rebuild(copyingFrom: image, above: d.highestAddress)
    return (d, try HandoverModel.decode(from: r.image, root: r.encoded.root))
  }

  @Test("a kho-v2 handover converts to kho-v1 (bitmap chunks, fdt property) and back, content equal")
  func toKHOv1() throws {
    let (image, root) = try Self.build(root: .v2)
    let (before, v1) = try Self.convert(image, root, ["kho-v1"])
    #expect(v1.model.rootVersion == .v1)
    #expect(v1.model.componentVersions[.memoryMap] == "bitmap-chunks-v1")
    #expect(v1.model.contentLines(details: true) == before.model.contentLines(details: true))
    #expect(v1.model.preservedData == before.model.preservedData)
    // And with LUO down to the luo-v1 FDT.
    let (_, old) = try Self.convert(image, root, ["kho-v1", "luo-v1"])
    #expect(old.model.luo?.version == .v1)
    #expect(old.model.componentVersions[.luoSession] == "luo-session-v2")
    #expect(old.model.contentLines() == before.model.contentLines())
  }

  @Test("kho-v3 → kho-v2 needs every sub-blob to be an FDT; converting LUO in the same step makes it so")
  func rawBlobs() throws {
    let (image, root) = try Self.build(root: .v3, luo: .v3)
    let d = try HandoverModel.decode(from: image, root: root)
    do {
      _ = try ModelConverter().run(d.model, targets: [.kho: "kho-v2"])
      Issue.record("kho-v2 accepted a raw luo_ser")
    } catch {
      #expect(error.kind == .lossy)
      #expect(error.violations.map(\.path) == ["/LUO", "/kho-xarray"])
    }
    var noXArray = d.model
    noXArray.subBlobs.removeAll { $0.name == "kho-xarray" }
    let (_, m) = try ModelConverter().run(noXArray, targets: [.kho: "kho-v2", .luo: "luo-v2"])
    #expect(m.rootVersion == .v2 && m.luo?.version == .v2)
  }

  @Test("memfd v1 ↔ v2, kho-xarray v2 → v1 without marks, and what cannot be done")
  func components() throws {
    let (image, root) = try Self.build(root: .v3)
    let (before, after) = try Self.convert(image, root, ["memfd-v2", "kho-xarray-v1"])
    #expect(after.model.memfdVersions == [.v2])
    #expect(after.model.xarrayVersions == [.v1])
    #expect(after.model.luo?.state.sessions[0].files.map(\.compatible) == ["memfd-v2", "memfd-v2"])
    #expect(after.model.contentLines() == before.model.contentLines())
    // luo-session-v1 holds names only: sessions with files are refused,
    // naming the condition; without files the node converts and back.
    let (i1, r1) = try Self.build(root: .v3, luo: .v1)
    let d1 = try HandoverModel.decode(from: i1, root: r1)
    do {
      _ = try ModelConverter().run(d1.model, targets: [.luoSession: "luo-session-v1"])
      Issue.record("sessions with files converted to luo-session-v1")
    } catch {
      #expect(error.kind == .lossy)
      #expect(error.violations.map(\.condition) == [.sessionsHaveNoFiles])
    }
    let (i0, r0) = try Self.build(root: .v3, luo: .v1, memfds: [])
    let (b0, down) = try Self.convert(i0, r0, ["luo-session-v1"])
    #expect(down.model.componentVersions[.luoSession] == "luo-session-v1")
    #expect(down.model.contentLines() == b0.model.contentLines())
    let d0 = try HandoverModel.decode(from: i0, root: r0)
    let (_, m0) = try ModelConverter().run(d0.model, targets: [.luoSession: "luo-session-v1"])
    let r = try m0.rebuild(copyingFrom: i0, above: d0.highestAddress)
    // From luo-v2 in one run: LUO becomes luo-v1, then its node v1.
    let (i2v, r2v) = try Self.build(root: .v3, luo: .v2, memfds: [])
    let (b2v, both) = try Self.convert(i2v, r2v, ["luo-v1", "luo-session-v1"])
    #expect(both.model.componentVersions[.luo] == "luo-v1")
    #expect(both.model.componentVersions[.luoSession] == "luo-session-v1")
    #expect(both.model.contentLines() == b2v.model.contentLines())
    let (_, up) = try Self.convert(r.image, r.encoded.root, ["luo-session-v2"])
    #expect(up.model.componentVersions[.luoSession] == "luo-session-v2")
    #expect(up.model.contentLines() == b0.model.contentLines())
    // Mixed memfd versions are not converted as one component.
    let (i2, r2) = try Self.build(root: .v3, memfds: [.v1, .v2])
    let d2 = try HandoverModel.decode(from: i2, root: r2)
    do {
      _ = try ModelConverter().run(d2.model, targets: [.memfd: "memfd-v2"])
      Issue.record("mixed memfd versions converted")
    } catch {
      #expect(error.kind == .badTarget)
      #expect(error.message == "the memfd files are in several versions (memfd-v1, memfd-v2)")
    }
  }

  @Test("the old metadata pages are dropped from the preserved set; data and opaque blobs stay")
  func preservedAccounting() throws {
    let (image, root) = try Self.build(root: .v4, luo: .v4)
    let d = try HandoverModel.decode(from: image, root: root)
    #expect(d.model.preservedData.contains(PhysAddr(0x8000_0000), order: 0))  // opaque memblock FDT
    #expect(d.model.preservedData.contains(pfn: 0x9_0000, order: 0))  // a folio
    #expect(!d.model.preservedData.contains(root, order: 0))  // the root FDT page
    #expect(d.preserved.contains(root, order: 0))
    #expect(d.metadataPages.contains(root.pfn(Self.g)))
    #expect(d.mapPages.allSatisfy { !d.preserved.contains(pfn: $0) })
    let r = try d.model.rebuild(copyingFrom: image, above: d.highestAddress)
    #expect(r.metadataBase.rawValue >= d.highestAddress)
    #expect(r.copiedPages == 1 + 8)  // the memblock FDT and the folio pages written
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// What the handover-level probes share: where corpora live, how a model
/// is written into a sample, and the converter path every probe uses.
enum ProbeSupport {
  static let geometry = PageGeometry.x86_64
  /// Pages of corpus data (sub-blob FDTs, file data, folios) start here.
  static let dataBase: UInt64 = 0x8000_0000
  /// Metadata of a written sample.
  static let metadata = PhysRange(start: PhysAddr(0x1_0000_0000), size: 1 << 28)
  /// The sample's preserved-memory map.
  static let map = PhysRange(start: PhysAddr(0x1_1000_0000), size: 1 << 28)

  /// Writes `model` (whose data pages `image` already holds) as a sample.
  static func sample(_ model: HandoverModel, in image: PhysicalImage, version: String) throws -> ProbeSample {
    let e = try model.encode(into: image, metadata: metadata, map: map)
    return ProbeSample(version: version, memory: image, root: e.root)
  }

  /// The real conversion path: decode the whole handover into the model,
  /// convert `component` with ``ModelConverter``, rebuild a new image.
  static func convert(_ sample: ProbeSample, _ component: ComponentID, to version: String) throws -> ProbeSample {
    let (memory, root) = try location(sample)
    let d = try HandoverModel.decode(from: memory, root: root)
    let (_, m) = try ModelConverter().run(d.model, targets: [component: version])
    let r = try m.rebuild(copyingFrom: memory, above: d.highestAddress)
    return ProbeSample(version: version, memory: r.image, root: r.encoded.root)
  }

  static func location(_ sample: ProbeSample) throws(DecodeError) -> (any PhysicalMemory, PhysAddr) {
    guard let memory = sample.memory, let root = sample.root else {
      throw DecodeError(.missing, "the sample has no memory or root address")
    }
    return (memory, root)
  }

  /// The KHO root of a sample, decoded.
  static func root(_ sample: ProbeSample) throws(DecodeError) -> (any PhysicalMemory, KHORoot) {
    let (memory, at) = try location(sample)
    let head = try memory.bytes(at: at, count: FDTHeader.size, path: .root)
    let total = Int(try FDTHeader(reading: head).totalSize)
    let fdt = try FDT(parsing: try memory.bytes(at: at, count: total, path: .root))
    return (memory, try KHORoot.decode(fdt, byteOrder: memory.geometry.byteOrder))
  }

  /// The sub-blob `name` of a sample's root.
  static func subBlob(_ name: String, _ sample: ProbeSample) throws(DecodeError) -> (any PhysicalMemory, KHOSubBlob) {
    let (memory, root) = try root(sample)
    guard let b = root.subBlob(named: name) else {
      throw DecodeError(.missing, "the root has no \(name) sub-node", path: DecodePath.root.appending(name))
    }
    return (memory, b)
  }

  /// A preserved set of every shape the maps must carry: pfn 1, orders 0,
  /// 1, 9, 10 and 18, a page range split as `kho_preserve_pages()` splits
  /// it, and order-0 pages every 128 MiB over 40 GiB (over 255 bitmap
  /// pages: two chunks of a kho-v1 list; many radix leaves).
  static func preservedCorpus() -> PreservedSet {
    let g = geometry
    var s = PreservedSet(geometry: g)
    _ = try? s.insert(pfn: 1, order: 0)
    _ = try? s.insert(pfn: 0x102, order: 1)
    _ = try? s.insert(pfn: 0x200, order: 9)
    _ = try? s.insert(pfn: 0x400, order: 10)
    _ = try? s.insert(pfn: 0x4_0000, order: 18)
    try? s.preserve(pages: 0x5_0003..<0x5_0400)
    for k in 0..<UInt64(300) { _ = try? s.insert(pfn: 0x20_0000 + k * 0x8000, order: 0) }
    return s
  }

  /// A device tree blob for an opaque sub-blob.
  static func fdt(_ compatible: String, _ extra: [DeviceTreeProperty] = [], children: [DeviceTreeNode] = []) throws
    -> [UInt8]
  {
    try FDTBuilder.build(
      DeviceTreeNode("", properties: [.string("compatible", compatible)] + extra, children: children))
  }

  /// Writes `bytes` at `address` and preserves its pages.
  static func place(_ bytes: [UInt8], at address: UInt64, in image: PhysicalImage, set: inout PreservedSet) throws {
    let g = image.geometry
    image.write(bytes, at: PhysAddr(address))
    let pages = UInt64((bytes.count + g.pageSize - 1) / g.pageSize)
    let first = address >> UInt64(g.pageShift)
    try set.preserve(pages: first..<first + max(pages, 1))
  }

  /// One line for an error: its kind and message (the first violation of a lossy refusal).
  static func describe(_ error: any Error) -> String {
    if let e = error as? ConversionError {
      guard let v = e.violations.first else { return "\(e.kind.rawValue): \(e.message)" }
      let more = e.violations.count > 1 ? " (and \(e.violations.count - 1) more)" : ""
      return "\(e.kind.rawValue): \(v)\(more)"
    }
    return "\(error)"
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// Proves the KHO root's cells: kho-v1 … kho-v4 and the RFC composite.
///
/// The corpus is a whole handover: a preserved set of every shape (so
/// kho-v1's bitmap chunk list and the radix tree are both exercised) and
/// two FDT sub-blobs the toolkit keeps opaque (`memblock`, `kho_test`),
/// which every root version can link. The variant adds the raw 73-byte
/// `kexec-metadata` blob, which only a root with `blob-size` (kho-v3+) can.
/// The reader for version B compares the root `compatible` exactly, as
/// `fdt_node_check_compatible()` does, then reads the map in B's format.
public struct RootProbe: ComponentCodecProbe {
  public init() {}
  public var component: ComponentID { .kho }
  public var versions: [String] { KHORootVersion.allCases.map(\.rawValue) }
  public var corpusDescription: String {
    "a handover with \(ProbeSupport.preservedCorpus().count) preserved entries (orders 0–18, a split page range, 300 pages 128 MiB apart: two kho-v1 bitmap chunks) and two opaque FDT sub-blobs; variant: a raw kexec-metadata blob (kho-v3+ only)"
  }

  func build(_ version: String, raw: Bool) throws -> ProbeSample {
    guard let v = KHORootVersion(rawValue: version) else { throw DecodeError(.unknownVersion, "\(version)") }
    let g = ProbeSupport.geometry
    let image = PhysicalImage(geometry: g)
    var set = ProbeSupport.preservedCorpus()
    let memblock = ProbeSupport.dataBase
    let test = ProbeSupport.dataBase + 0x1000
    try ProbeSupport.place(
      try ProbeSupport.fdt(
        "memblock-v1",
        children: [
          DeviceTreeNode(
            "trace",
            properties: [
              .string("compatible", "reserve-mem-v1"), .u64("start", 0x9_0000_0000, .little),
              .u64("size", 0x20_0000, .little),
            ])
        ]), at: memblock, in: image, set: &set)
    try ProbeSupport.place(
      try ProbeSupport.fdt("kho-test-v1", [.u32("magic", 0x4b48_4f21)]), at: test, in: image, set: &set)
    func opaque(_ a: UInt64) throws -> HandoverModel.OpaqueBlob {
      let h = try FDTHeader(reading: try image.bytes(at: PhysAddr(a), count: FDTHeader.size))
      return .init(address: PhysAddr(a), size: UInt64(h.totalSize), isFDT: true)
    }
    var blobs: [HandoverModel.SubBlob] = [
      .init(name: "kho_test", content: .opaque(try opaque(test))),
      .init(name: "memblock", content: .opaque(try opaque(memblock))),
    ]
    if raw {
      blobs.insert(
        .init(
          name: KexecMetadata.nodeName,
          content: .kexecMetadata(KexecMetadata(previousRelease: "7.2.0-probe", kexecCount: 4))),
        at: 0)
    }
    let model = HandoverModel(geometry: g, rootVersion: v, preservedData: set, subBlobs: blobs)
    return try ProbeSupport.sample(model, in: image, version: version)
  }

  public func canonicalContent() throws -> ProbeContent { try decode(try build("kho-v4", raw: false), as: "kho-v4") }
  public func encodeCanonical(_ version: String) throws -> ProbeSample { try build(version, raw: false) }

  public func decode(_ sample: ProbeSample, as version: String) throws -> ProbeContent {
    let (memory, root) = try ProbeSupport.root(sample)
    guard root.version.rawValue == version else {
      throw DecodeError(
        .unknownVersion,
        "root compatible '\(root.version.rawValue)' is not '\(version)' (exact match): the reader disables KHO revival (§9.1)",
        path: .root)
    }
    let (_, at) = try ProbeSupport.location(sample)
    let d = try HandoverModel.decode(from: memory, root: at)
    return ProbeContent(lines: d.model.contentLines(details: true))
  }

  public func convert(_ sample: ProbeSample, to version: String) throws -> ProbeSample? {
    try ProbeSupport.convert(sample, .kho, to: version)
  }

  public func variants() throws -> [ProbeVariant] {
    let writers = KHORootVersion.allCases.filter(\.hasBlobSize).map(\.rawValue)
    return [
      ProbeVariant(
        name: "raw kexec-metadata sub-blob", violates: [.allSubBlobsAreFDT], writers: writers,
        content: try decode(try build("kho-v4", raw: true), as: "kho-v4"),
        encode: { v in try build(v, raw: true) })
    ]
  }
}

/// Proves the preserved-memory map's cells: the kho-v1 bitmap chunk list and the radix tree.
///
/// Standalone (the map's version has no string of its own: a reader reads
/// what its root version implies), so the reader for version B is B's
/// decoder run on the bytes; conversion decodes with the writer's decoder
/// into the `PreservedSet` and encodes with the reader's, as
/// ``HandoverModel/encode(into:metadata:map:)`` does.
public struct MemoryMapProbe: ComponentCodecProbe {
  public init() {}
  public var component: ComponentID { .memoryMap }
  public var versions: [String] { MemoryMapFormat.allCases.map(\.rawValue) }
  public var corpusDescription: String {
    "\(ProbeSupport.preservedCorpus().count) preserved entries: pfn 1, orders 0–18, a split page range, 300 pages 128 MiB apart (two kho-v1 bitmap chunks)"
  }

  func format(_ v: String) throws(DecodeError) -> MemoryMapFormat {
    guard let f = MemoryMapFormat(rawValue: v) else { throw DecodeError(.unknownVersion, "\(v)") }
    return f
  }

  func write(_ set: PreservedSet, as version: String) throws -> ProbeSample {
    let image = PhysicalImage(geometry: set.geometry)
    var alloc = PageAllocator(ranges: [ProbeSupport.map], geometry: set.geometry)
    let head = try PreservedMemoryMap.encode(set, as: try format(version), into: image, allocator: &alloc)
    return ProbeSample(version: version, memory: image, root: head)
  }

  static func lines(_ set: PreservedSet) -> ProbeContent {
    ProbeContent(lines: ["\(set.count) entries"] + set.map { "\($0.phys) order \($0.order)" })
  }

  public func canonicalContent() throws -> ProbeContent { Self.lines(ProbeSupport.preservedCorpus()) }
  public func encodeCanonical(_ version: String) throws -> ProbeSample {
    try write(ProbeSupport.preservedCorpus(), as: version)
  }

  public func decode(_ sample: ProbeSample, as version: String) throws -> ProbeContent {
    let (memory, head) = try ProbeSupport.location(sample)
    return Self.lines(try PreservedMemoryMap.decode(try format(version), from: memory, at: head))
  }

  public func convert(_ sample: ProbeSample, to version: String) throws -> ProbeSample? {
    let (memory, head) = try ProbeSupport.location(sample)
    let set = try PreservedMemoryMap.decode(try format(sample.version), from: memory, at: head)
    return try write(set, as: version)
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats
import XArray

/// Proves the KHO xarray cells: kho-xarray-v1 (the prototype's layout) and kho-xarray-v2.
///
/// The corpus is a `kho-xarray` sub-blob under a kho-v4 root: 300 dense
/// keys, 100 keys around 2^20, one at 2^40 and one just below 2^54 (all six
/// v1 levels), no value 0. Variants, each v2-only: a stored 0, marks, a
/// range entry, a key at 2^60. The reader for v1 walks the tables from the
/// sub-blob address; the reader for v2 checks the header's magic, version
/// and checksums.
public struct XArrayProbe: ComponentCodecProbe {
  public init() {}
  public var component: ComponentID { .khoXArray }
  public var versions: [String] { HandoverModel.XArrayVersion.allCases.map(\.rawValue) }
  public var corpusDescription: String {
    "402 entries: 300 dense keys, 100 near 2^20, 2^40, 2^54 − 3 (all six v1 levels), no value 0; variants (v2 only): a stored 0, marks, a range entry, a key at 2^60"
  }

  enum Extra: CaseIterable { case none, zero, marks, range, wideKey }

  func array(_ extra: Extra) -> XArray<UInt64> {
    var x = XArray<UInt64>()
    for i in 0..<UInt64(300) { _ = x.store(0x1000 + i, at: i) }
    for k in 0..<UInt64(100) { _ = x.store(0xdead_0000 + k, at: (1 << 20) + k * 7) }
    _ = x.store(0x4242, at: 1 << 40)
    _ = x.store(0x5353, at: (1 << 54) - 3)
    switch extra {
    case .none: break
    case .zero: _ = x.store(0, at: 5000)
    case .marks:
      _ = x.setMark(.mark0, at: 3)
      _ = x.setMark(.mark2, at: 1 << 40)
    case .range: x.store(0x7777, order: 4, at: 0x10_0000)
    case .wideKey: _ = x.store(0x6060, at: 1 << 60)
    }
    return x
  }

  func build(_ version: String, _ extra: Extra) throws -> ProbeSample {
    guard let v = HandoverModel.XArrayVersion(rawValue: version) else {
      throw DecodeError(.unknownVersion, "\(version)")
    }
    let g = ProbeSupport.geometry
    let model = HandoverModel(
      geometry: g, rootVersion: .v4, preservedData: PreservedSet(geometry: g),
      subBlobs: [.init(name: "kho-xarray", content: .xarray(.init(version: v, array: array(extra))))])
    return try ProbeSupport.sample(model, in: PhysicalImage(geometry: g), version: version)
  }

  static func lines(_ x: XArray<UInt64>) -> ProbeContent {
    var out = ["\(x.count) entries"]
    x.forEachEntry { e in
      out.append(
        "0x\(String(e.index, radix: 16)) order \(e.order) = 0x\(String(e.element, radix: 16)) marks \(e.marks.rawValue)"
      )
    }
    return ProbeContent(lines: out)
  }

  public func canonicalContent() throws -> ProbeContent { Self.lines(array(.none)) }
  public func encodeCanonical(_ version: String) throws -> ProbeSample { try build(version, .none) }

  public func decode(_ sample: ProbeSample, as version: String) throws -> ProbeContent {
    let (memory, b) = try ProbeSupport.subBlob("kho-xarray", sample)
    let path = DecodePath.root.appending("kho-xarray")
    switch HandoverModel.XArrayVersion(rawValue: version) {
    case .v1: return Self.lines(try KHOXArrayV1View(memory: memory, root: b.address, path: path).makeXArray())
    case .v2: return Self.lines(try KHOXArrayV2View(memory: memory, at: b.address, path: path).makeXArray())
    case nil: throw DecodeError(.unknownVersion, "\(version)")
    }
  }

  public func convert(_ sample: ProbeSample, to version: String) throws -> ProbeSample? {
    try ProbeSupport.convert(sample, .khoXArray, to: version)
  }

  public func variants() throws -> [ProbeVariant] {
    let cases: [(Extra, String, ConversionCondition)] = [
      (.zero, "a stored 0", .xarrayNoZeroValues), (.marks, "marks", .xarrayNoMarks),
      (.range, "a range entry", .xarrayNoRanges), (.wideKey, "a key at 2^60", .xarrayKeysFit54Bits),
    ]
    return cases.map { (extra, name, cond) in
      ProbeVariant(
        name: name, violates: [cond], writers: ["kho-xarray-v2"], content: Self.lines(array(extra)),
        encode: { v in try build(v, extra) })
    }
  }
}

/// Proves the single-version components: block-v1, vmalloc-v1, kexec-metadata-v1 (diagonals).
public struct SingleVersionProbe: ComponentCodecProbe {
  public let component: ComponentID
  public init(_ component: ComponentID) { self.component = component }

  public var versions: [String] {
    switch component {
    case .block: ["block-v1"]
    case .vmalloc: ["vmalloc-v1"]
    default: ["kexec-metadata-v1"]
    }
  }

  public var corpusDescription: String {
    switch component {
    case .block: "300 entries of 32 bytes: three blocks of 127, 127 and 46"
    case .vmalloc: "a 520-page area: a full chunk of 511 runs, then a second chunk of 9"
    default: "previous release '7.2.0-probe', kexec count 9"
    }
  }

  var blockEntries: [UInt8] { (0..<300 * 32).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 5) } }
  var vmallocData: [UInt8] { (0..<520 * 4096).map { UInt8(truncatingIfNeeded: ($0 >> 12) &+ $0 &* 7) } }

  static func digest(_ bytes: [UInt8]) -> String {
    var d = _Digest()
    d.add(bytes: Bytes(bytes))
    return d.hex
  }

  public func canonicalContent() throws -> ProbeContent {
    switch component {
    case .block: ProbeContent(lines: ["300 entries", "digest \(Self.digest(blockEntries))"])
    case .vmalloc: ProbeContent(lines: ["\(vmallocData.count) bytes", "digest \(Self.digest(vmallocData))"])
    default: ProbeContent(lines: ["release '7.2.0-probe'", "count 9"])
    }
  }

  public func encodeCanonical(_ version: String) throws -> ProbeSample {
    let g = ProbeSupport.geometry
    let image = PhysicalImage(geometry: g)
    var alloc = PageAllocator(ranges: [ProbeSupport.metadata], geometry: g)
    switch component {
    case .block:
      guard let layout = BlockLayout(entrySize: 32, geometry: g) else { throw DecodeError(.unsupported, "layout") }
      let w = try BlockList.encode(blockEntries, layout: layout, into: image, allocator: &alloc)
      return ProbeSample(version: version, memory: image, root: w.head)
    case .vmalloc:
      let d = try VMalloc.encode(data: vmallocData, into: image, allocator: &alloc)
      let at = try alloc.allocate(in: image)
      d.write(to: image, at: at)
      return ProbeSample(version: version, memory: image, root: at)
    default:
      let b = try KexecMetadata(previousRelease: "7.2.0-probe", kexecCount: 9).encoded(byteOrder: g.byteOrder)
      return ProbeSample(version: version, blob: Bytes(b))
    }
  }

  public func decode(_ sample: ProbeSample, as version: String) throws -> ProbeContent {
    guard versions.contains(version), sample.version == version else {
      throw DecodeError(.unknownVersion, "\(sample.version) is not \(version)")
    }
    switch component {
    case .block:
      let (memory, head) = try ProbeSupport.location(sample)
      guard let layout = BlockLayout(entrySize: 32, geometry: memory.geometry) else {
        throw DecodeError(.unsupported, "layout")
      }
      let chain = try BlockList.decode(from: memory, head: head, layout: layout)
      return ProbeContent(lines: ["\(chain.count) entries", "digest \(Self.digest(chain.entries.array))"])
    case .vmalloc:
      let (memory, at) = try ProbeSupport.location(sample)
      var r = try memory.reader(at: at, count: VMallocDescriptor.size, path: .root)
      let area = try VMalloc.decode(try VMallocDescriptor(reading: &r), from: memory, at: at)
      let data = try VMalloc.readData(area, count: Int(area.byteCount), from: memory)
      return ProbeContent(lines: ["\(data.count) bytes", "digest \(Self.digest(data))"])
    default:
      guard let blob = sample.blob else { throw DecodeError(.missing, "no blob") }
      let m = try KexecMetadata(decoding: blob)
      return ProbeContent(lines: ["release '\(m.previousRelease)'", "count \(m.kexecCount)"])
    }
  }
}

extension CompatMatrix {
  /// The probes of every component with codecs in the toolkit.
  public static var standardProbes: [any ComponentCodecProbe] {
    [
      RootProbe(), MemoryMapProbe(), LUOProbe(), LUOSubNodeProbe(.luoSession), LUOSubNodeProbe(.luoFLB),
      MemfdProbe(), XArrayProbe(), SingleVersionProbe(.block), SingleVersionProbe(.vmalloc),
      SingleVersionProbe(.kexecMetadata),
    ]
  }

  /// Why a component's cells follow the registry's rules instead of a probe.
  static let ruleBasis: [ComponentID: String] = [
    .memblock: "the memblock codec is read-only (no writer to encode a corpus with)",
    .reserveMem: "the memblock codec is read-only (no writer to encode a corpus with)",
  ]
}

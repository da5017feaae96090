// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// Proves the LUO cells: luo-v1 … luo-v5 and `luo-v5;block-v1`.
///
/// The canonical corpus, under a kho-v4 root, has 55 sessions (two
/// session blocks in luo-v4+), one with 100 files (two file blocks in
/// luo-v5, within luo-v1…v4's 128-file arrays), sessions with 0–3 files,
/// and two FLBs (luo-v1 writes the `luo-flb` node). Variants: 820 sessions
/// (only luo-v4+ hold more than 819) and a session of 130 files (only
/// luo-v5 holds more than 128). The reader for version B is
/// `LUO.decode(…, as: B)`, which refuses any other version by its string.
public struct LUOProbe: ComponentCodecProbe {
  public init() {}
  public var component: ComponentID { .luo }
  public var versions: [String] { LUOVersion.allCases.map(\.rawValue) }
  public var corpusDescription: String {
    "55 sessions (2 session blocks), one with 100 files (2 file blocks), 2 FLBs, under a kho-v4 root; variants: 820 sessions (luo-v4+ only), 130 files in one session (luo-v5+ only)"
  }

  enum Shape { case canonical, manySessions, manyFiles }

  func state(_ shape: Shape) -> LUOState {
    let sessionCount = shape == .manySessions ? 820 : 55
    var sessions: [LUOSession] = []
    var data = ProbeSupport.dataBase
    for i in 0..<sessionCount {
      var files: [LUOFile] = []
      let n = i == 0 ? (shape == .manyFiles ? 130 : 100) : (shape == .manySessions ? 0 : i % 4)
      for j in 0..<n {
        files.append(LUOFile(compatible: "probe-file-v1", token: UInt64(0x1000 + j), data: PhysAddr(data)))
        data += 0x1000
      }
      let name = "session-" + String(repeating: "0", count: 3 - String(i).count) + String(i)
      sessions.append(LUOSession(name: name, files: files))
    }
    return LUOState(
      liveUpdateNumber: 7, sessions: sessions,
      flbs: [LUOFLB(name: "iommu-liveupdate-v1", data: 0x5000, count: 2), LUOFLB(name: "pci-v2", data: 0, count: 1)])
  }

  func build(_ version: String, _ shape: Shape) throws -> ProbeSample {
    guard let v = LUOVersion(rawValue: version) else { throw DecodeError(.unknownVersion, "\(version)") }
    let g = ProbeSupport.geometry
    let s = state(shape)
    var set = PreservedSet(geometry: g)
    for sess in s.sessions { for f in sess.files { _ = try set.insert(f.data, order: 0) } }
    let model = HandoverModel(
      geometry: g, rootVersion: .v4, preservedData: set,
      subBlobs: [
        .init(
          name: LUO.subnodeName,
          content: .luo(.init(version: v, sessionCompatible: v == .v1 ? LUOSessionForm.v2.rawValue : nil, state: s)))
      ])
    return try ProbeSupport.sample(model, in: PhysicalImage(geometry: g), version: version)
  }

  static func lines(_ s: LUOState) -> ProbeContent {
    var out = ["live update \(s.liveUpdateNumber), \(s.sessions.count) sessions, \(s.fileCount) files"]
    for (i, sess) in s.sessions.enumerated() {
      out.append("session[\(i)] '\(sess.name)' \(sess.files.count) files")
      for f in sess.files { out.append("  \(f.compatible) token 0x\(String(f.token, radix: 16)) data \(f.data)") }
    }
    for f in s.flbs { out.append("flb '\(f.name)' data 0x\(String(f.data, radix: 16)) count \(f.count)") }
    return ProbeContent(lines: out)
  }

  public func canonicalContent() throws -> ProbeContent { Self.lines(state(.canonical)) }
  public func encodeCanonical(_ version: String) throws -> ProbeSample { try build(version, .canonical) }

  public func decode(_ sample: ProbeSample, as version: String) throws -> ProbeContent {
    guard let v = LUOVersion(rawValue: version) else { throw DecodeError(.unknownVersion, "\(version)") }
    let (memory, b) = try ProbeSupport.subBlob(LUO.subnodeName, sample)
    return Self.lines(try LUO.decode(from: memory, blob: b.address, size: b.size, as: v).state)
  }

  public func convert(_ sample: ProbeSample, to version: String) throws -> ProbeSample? {
    try ProbeSupport.convert(sample, .luo, to: version)
  }

  public func variants() throws -> [ProbeVariant] {
    [
      ProbeVariant(
        name: "820 sessions", violates: [.sessionsFitRegion],
        writers: ["luo-v4", "luo-v3-kho-block-v1", "luo-v5", "luo-v4-kho-block-v1", "luo-v5;block-v1", "luo-features"],
        content: Self.lines(state(.manySessions)), encode: { v in try build(v, .manySessions) }),
      ProbeVariant(
        name: "130 files in one session", violates: [.filesFitArray],
        writers: ["luo-v5", "luo-v4-kho-block-v1", "luo-v5;block-v1", "luo-features"],
        content: Self.lines(state(.manyFiles)), encode: { v in try build(v, .manyFiles) }),
    ]
  }
}

/// Proves the luo-v1 sub-node cells: `luo-session-v1` ↔ `luo-session-v2`
/// and `luo-flb-v1`.
///
/// The corpus is a luo-v1 FDT under a kho-v4 root with three sessions
/// without files (what luo-session-v1's name-only entries can hold) and
/// two FLBs in its `luo-flb` node. Variant: a session with a file, which
/// only luo-session-v2 can write and the way down must refuse. The reader
/// for a sub-node version accepts a luo-v1 FDT only when its node carries
/// that compatible, as the kernel's does.
public struct LUOSubNodeProbe: ComponentCodecProbe {
  public let component: ComponentID
  public init(_ component: ComponentID) { self.component = component }
  public var versions: [String] {
    component == .luoFLB ? ["luo-flb-v1"] : LUOSessionForm.allCases.map(\.rawValue)
  }
  public var corpusDescription: String {
    "a luo-v1 FDT under a kho-v4 root with 3 sessions without files and 2 FLBs in its luo-flb node"
      + (component == .luoSession ? "; variant: a session with a file (luo-session-v2 only)" : "")
  }

  func state(withFile: Bool) -> LUOState {
    let files = withFile ? [LUOFile(compatible: "probe-file-v1", token: 1, data: PhysAddr(ProbeSupport.dataBase))] : []
    return LUOState(
      liveUpdateNumber: 2,
      sessions: [LUOSession(name: "a", files: files), LUOSession(name: "b"), LUOSession(name: "c")],
      flbs: [LUOFLB(name: "iommu-liveupdate-v1", data: 0x5000, count: 1), LUOFLB(name: "pci-v2", data: 0, count: 1)])
  }

  func build(_ version: String, withFile: Bool) throws -> ProbeSample {
    guard let form = component == .luoFLB ? .v2 : LUOSessionForm(rawValue: version) else {
      throw DecodeError(.unknownVersion, "\(version)")
    }
    let g = ProbeSupport.geometry
    let s = state(withFile: withFile)
    var set = PreservedSet(geometry: g)
    for sess in s.sessions { for f in sess.files { _ = try set.insert(f.data, order: 0) } }
    let model = HandoverModel(
      geometry: g, rootVersion: .v4, preservedData: set,
      subBlobs: [
        .init(name: LUO.subnodeName, content: .luo(.init(version: .v1, sessionCompatible: form.rawValue, state: s)))
      ])
    return try ProbeSupport.sample(model, in: PhysicalImage(geometry: g), version: version)
  }

  public func canonicalContent() throws -> ProbeContent { LUOProbe.lines(state(withFile: false)) }
  public func encodeCanonical(_ version: String) throws -> ProbeSample { try build(version, withFile: false) }

  public func decode(_ sample: ProbeSample, as version: String) throws -> ProbeContent {
    let (memory, b) = try ProbeSupport.subBlob(LUO.subnodeName, sample)
    let d = try LUO.decode(from: memory, blob: b.address, size: b.size, as: .v1)
    let found =
      component == .luoFLB ? (d.layout.flbNodePresent ? "luo-flb-v1" : "none") : (d.layout.sessionCompatible ?? "none")
    guard found == version else {
      throw DecodeError(.unknownVersion, "the luo-v1 FDT's \(component) node is '\(found)', not '\(version)' (§6.2)")
    }
    return LUOProbe.lines(d.state)
  }

  public func convert(_ sample: ProbeSample, to version: String) throws -> ProbeSample? {
    component == .luoSession ? try ProbeSupport.convert(sample, .luoSession, to: version) : nil
  }

  public func variants() throws -> [ProbeVariant] {
    guard component == .luoSession else { return [] }
    return [
      ProbeVariant(
        name: "a session with a file", violates: [.sessionsHaveNoFiles], writers: [LUOSessionForm.v2.rawValue],
        content: LUOProbe.lines(state(withFile: true)), encode: { v in try build(v, withFile: true) })
    ]
  }
}

/// Proves the memfd cells: memfd-v1, memfd-v2 and `memfd-v2;vmalloc-v1`.
///
/// The corpus is a luo-v5 session of three memfds (empty; 3 folios; 600
/// folios, a three-page folio array) whose handler string is the writer's
/// version; the variant seals one memfd (only memfd-v2 keeps seals). A
/// reader for version B is the file handler registered under B's string:
/// it takes a file only when `luo_file_ser.compatible` equals B exactly
/// (§9.1), then decodes `memfd_luo_ser` as B.
public struct MemfdProbe: ComponentCodecProbe {
  public init() {}
  public var component: ComponentID { .memfd }
  public var versions: [String] { MemfdVersion.allCases.map(\.rawValue) }
  public var corpusDescription: String {
    "a luo-v5 session of three memfds (empty; 3 folios; 600 folios in a 3-page folio array) under a kho-v4 root; variant: one memfd sealed SEAL|GROW (memfd-v2 only)"
  }

  func memfds(sealed: Bool) -> [MemfdState] {
    let base = (ProbeSupport.dataBase >> 12) + 0x100
    let small = (0..<3).map {
      MemfdFolio(
        pfn: base + UInt64($0), flags: MemfdFolio.uptodate | ($0 == 1 ? MemfdFolio.dirty : 0), index: UInt64($0 * 2))
    }
    let big = (0..<600).map { MemfdFolio(pfn: base + 0x10 + UInt64($0), flags: MemfdFolio.uptodate, index: UInt64($0)) }
    return [
      MemfdState(pos: 0, size: 0),
      MemfdState(pos: 100, size: 6 * 4096, seals: sealed ? 0x5 : 0, folios: small),
      MemfdState(pos: 4242, size: 600 * 4096 - 7, folios: big),
    ]
  }

  func build(_ version: String, sealed: Bool) throws -> ProbeSample {
    guard let v = MemfdVersion(rawValue: version) else { throw DecodeError(.unknownVersion, "\(version)") }
    let g = ProbeSupport.geometry
    let states = memfds(sealed: sealed)
    var set = PreservedSet(geometry: g)
    var files: [LUOFile] = []
    var models: [HandoverModel.FileRef: HandoverModel.MemfdModel] = [:]
    for (j, s) in states.enumerated() {
      for f in s.folios { _ = try set.insert(pfn: f.pfn, order: 0) }
      files.append(LUOFile(compatible: v.rawValue, token: UInt64(0x10 + j), data: .zero))
      models[.init(session: 0, file: j)] = .init(version: v, state: s)
    }
    let luo = HandoverModel.LUOModel(
      version: .v5, state: LUOState(liveUpdateNumber: 1, sessions: [LUOSession(name: "memfds", files: files)]),
      memfds: models)
    let model = HandoverModel(
      geometry: g, rootVersion: .v4, preservedData: set, subBlobs: [.init(name: LUO.subnodeName, content: .luo(luo))])
    return try ProbeSupport.sample(model, in: PhysicalImage(geometry: g), version: version)
  }

  static func lines(_ states: [(token: UInt64, state: MemfdState)]) -> ProbeContent {
    ProbeContent(
      lines: states.map {
        "token 0x\(String($0.token, radix: 16)): \(HandoverModel.memfdLine($0.state, ProbeSupport.geometry))"
      })
  }

  public func canonicalContent() throws -> ProbeContent {
    Self.lines(memfds(sealed: false).enumerated().map { (UInt64(0x10 + $0.offset), $0.element) })
  }
  public func encodeCanonical(_ version: String) throws -> ProbeSample { try build(version, sealed: false) }

  public func decode(_ sample: ProbeSample, as version: String) throws -> ProbeContent {
    guard let v = MemfdVersion(rawValue: version) else { throw DecodeError(.unknownVersion, "\(version)") }
    let (memory, b) = try ProbeSupport.subBlob(LUO.subnodeName, sample)
    let d = try LUO.decode(from: memory, blob: b.address, size: b.size)
    var out: [(UInt64, MemfdState)] = []
    for (i, s) in d.state.sessions.enumerated() {
      for (j, f) in s.files.enumerated() {
        let path = DecodePath.root.appending(LUO.subnodeName).appending("sessions", index: i).appending(
          "files", index: j)
        guard f.compatible == version else {
          throw DecodeError(
            .unknownVersion,
            "file handler '\(f.compatible)' is not '\(version)': no handler matches (exact strcmp), -ENOENT (§9.1)",
            path: path)
        }
        out.append((f.token, try Memfd.decode(from: memory, at: f.data, version: v, path: path).state))
      }
    }
    return Self.lines(out)
  }

  public func convert(_ sample: ProbeSample, to version: String) throws -> ProbeSample? {
    try ProbeSupport.convert(sample, .memfd, to: version)
  }

  public func variants() throws -> [ProbeVariant] {
    [
      ProbeVariant(
        name: "sealed memfd", violates: [.memfdNoSeals], writers: ["memfd-v2", "memfd-v2;vmalloc-v1", "memfd"],
        content: Self.lines(memfds(sealed: true).enumerated().map { (UInt64(0x10 + $0.offset), $0.element) }),
        encode: { v in try build(v, sealed: true) })
    ]
  }
}

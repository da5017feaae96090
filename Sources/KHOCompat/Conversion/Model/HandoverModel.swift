// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats
import XArray

/// A decoded handover in a version-independent form: what the converter
/// rewrites and ``encode(into:metadata:map:)`` writes back.
///
/// Each component keeps its content (sessions, files, memfd states, xarray
/// entries, the preserved data pages) and the version it is to be written
/// in. Converting a component changes that version; the encoder then lays
/// out every structure afresh. Sub-blobs the toolkit does not decode stay
/// where they are (``OpaqueBlob``) and are carried over byte for byte.
///
///     let decoded = try HandoverModel.decode(from: memory, root: rootAddress)
///     var m = decoded.model
///     m.componentVersions[.luo]          // "luo-v4"
///     m.violations(of: .memfdNoSeals)    // every sealed memfd
public struct HandoverModel: Sendable {
  /// The page geometry of the kernel that wrote it.
  public var geometry: PageGeometry
  /// The KHO root version (which fixes the memory map's format).
  public var rootVersion: KHORootVersion
  /// Preserved memory that belongs to no structure the encoder rewrites:
  /// user data (memfd folios, reserve_mem regions, guest memory), opaque
  /// sub-blobs. The encoder adds the pages of the metadata it writes.
  public var preservedData: PreservedSet
  /// The sub-blobs, in the root FDT's order.
  public var subBlobs: [SubBlob]

  public init(geometry: PageGeometry, rootVersion: KHORootVersion, preservedData: PreservedSet, subBlobs: [SubBlob]) {
    self.geometry = geometry
    self.rootVersion = rootVersion
    self.preservedData = preservedData
    self.subBlobs = subBlobs
  }

  /// One sub-node of the root.
  public struct SubBlob: Sendable {
    /// The node name (`LUO`, `kexec-metadata`, …).
    public var name: String
    public var content: Content

    public init(name: String, content: Content) {
      self.name = name
      self.content = content
    }
  }

  /// What a sub-blob holds.
  public enum Content: Sendable {
    case luo(LUOModel)
    case kexecMetadata(KexecMetadata)
    case xarray(XArrayModel)
    case opaque(OpaqueBlob)
  }

  /// A sub-blob the toolkit does not decode (memblock, kho_test, …): kept in place.
  public struct OpaqueBlob: Hashable, Sendable {
    public var address: PhysAddr
    /// Its size: `blob-size`, or the FDT `totalsize`.
    public var size: UInt64
    /// Whether it is an FDT (so a kho-v1/kho-v2 root can link it).
    public var isFDT: Bool
    /// The FDT root's `compatible`, when it has one.
    public var compatible: String?

    public init(address: PhysAddr, size: UInt64, isFDT: Bool, compatible: String? = nil) {
      self.address = address
      self.size = size
      self.isFDT = isFDT
      self.compatible = compatible
    }
  }

  /// The LUO state and the version to write it in.
  public struct LUOModel: Sendable {
    public var version: LUOVersion
    /// The luo-v1 `luo-session` node's compatible (nil for later versions).
    public var sessionCompatible: String?
    /// Whether a luo-v1 FDT carries the `luo-flb` node (always true later).
    public var flbNode: Bool
    /// Sessions, files and FLBs. A memfd file's `data` is its old address
    /// until the encoder writes the memfd afresh.
    public var state: LUOState
    /// The memfd files' state, by (session, file).
    public var memfds: [FileRef: MemfdModel]

    public init(
      version: LUOVersion, sessionCompatible: String? = nil, flbNode: Bool = true, state: LUOState,
      memfds: [FileRef: MemfdModel] = [:]
    ) {
      self.version = version
      self.sessionCompatible = sessionCompatible
      self.flbNode = flbNode
      self.state = state
      self.memfds = memfds
    }
  }

  /// A file of a session.
  public struct FileRef: Hashable, Sendable, Comparable {
    public var session: Int
    public var file: Int
    public init(session: Int, file: Int) {
      self.session = session
      self.file = file
    }
    public static func < (a: Self, b: Self) -> Bool { (a.session, a.file) < (b.session, b.file) }
  }

  /// A memfd's state and the version to write it in.
  public struct MemfdModel: Hashable, Sendable {
    public var version: MemfdVersion
    public var state: MemfdState
    public init(version: MemfdVersion, state: MemfdState) {
      self.version = version
      self.state = state
    }
  }

  /// The versions of the KHO xarray.
  public enum XArrayVersion: String, Hashable, Sendable, CaseIterable {
    case v1 = "kho-xarray-v1"
    case v2 = "kho-xarray-v2"
  }

  /// A KHO xarray and the version to write it in.
  public struct XArrayModel: Sendable {
    public var version: XArrayVersion
    public var array: XArray<UInt64>
    public init(version: XArrayVersion, array: XArray<UInt64>) {
      self.version = version
      self.array = array
    }
  }
}

extension HandoverModel {
  /// The `LUO` sub-blob's model, if there is one.
  public var luo: LUOModel? {
    get {
      for b in subBlobs { if case .luo(let l) = b.content { return l } }
      return nil
    }
    set {
      guard let newValue, let i = subBlobs.firstIndex(where: { if case .luo = $0.content { true } else { false } })
      else { return }
      subBlobs[i].content = .luo(newValue)
    }
  }

  /// The versions of the memfd files, sorted oldest first.
  public var memfdVersions: [MemfdVersion] {
    let all = Set(luo?.memfds.values.map(\.version) ?? [])
    return MemfdVersion.allCases.filter { all.contains($0) }
  }

  /// The versions of the xarray sub-blobs, oldest first.
  public var xarrayVersions: [XArrayVersion] {
    var all = Set<XArrayVersion>()
    for b in subBlobs { if case .xarray(let x) = b.content { all.insert(x.version) } }
    return XArrayVersion.allCases.filter { all.contains($0) }
  }

  /// The path of a sub-blob, `/LUO`.
  static func path(_ name: String) -> DecodePath { DecodePath.root.appending(name) }
  /// The path of a file, `/LUO/sessions[3]/files[7]`.
  static func path(_ f: FileRef) -> DecodePath {
    path(LUO.subnodeName).appending("sessions", index: f.session).appending("files", index: f.file)
  }
}

extension HandoverModel: ConversionSubject {
  /// The version of every component the handover holds (registry names).
  ///
  /// The memory map follows the root; `luo-session`/`luo-flb` exist only in
  /// luo-v1; `block-v1` comes with luo-v4 and later, `vmalloc-v1` with memfd.
  /// When memfd files (or xarrays) are in several versions the oldest is
  /// reported; ``ModelConverter`` refuses to convert such a component.
  public var componentVersions: [ComponentID: String] {
    var v: [ComponentID: String] = [
      .kho: rootVersion.rawValue, .memoryMap: rootVersion.memoryMapFormat.rawValue,
    ]
    for b in subBlobs {
      switch b.content {
      case .luo(let l):
        v[.luo] = l.version.rawValue
        if l.version == .v1 {
          v[.luoSession] = l.sessionCompatible ?? LUOSessionForm.v2.rawValue
          if l.flbNode { v[.luoFLB] = "luo-flb-v1" }
        }
        if l.version.sessionLayout == .blocks { v[.block] = "block-v1" }
        if let m = memfdVersions.first {
          v[.memfd] = m.rawValue
          v[.vmalloc] = "vmalloc-v1"
        }
      case .kexecMetadata:
        v[.kexecMetadata] = "kexec-metadata-v1"
      case .xarray:
        if let x = xarrayVersions.first { v[.khoXArray] = x.rawValue }
      case .opaque:
        break
      }
    }
    return v
  }

  /// Every place where `condition` does not hold, named down to the session, file and field.
  public func violations(of condition: ConversionCondition) -> [ConversionViolation] {
    let g = geometry
    var out: [ConversionViolation] = []
    func add(_ path: DecodePath, _ field: String?, _ detail: String) {
      out.append(ConversionViolation(condition: condition, path: path.description, field: field, detail: detail))
    }
    switch condition {
    case .allSubBlobsAreFDT:
      for b in subBlobs {
        switch b.content {
        case .luo(let l) where l.version.container == .raw:
          add(Self.path(b.name), nil, "\(l.version) is a raw \(l.version.serSize)-byte luo_ser, not an FDT")
        case .kexecMetadata:
          add(Self.path(b.name), nil, "kexec-metadata is a raw \(KexecMetadata.size)-byte struct, not an FDT")
        case .xarray(let x):
          add(Self.path(b.name), nil, "\(x.version.rawValue) is a raw structure, not an FDT")
        case .opaque(let o) where !o.isFDT:
          add(Self.path(b.name), nil, "a raw \(o.size)-byte blob the toolkit does not decode, not an FDT")
        default:
          break
        }
      }
    case .sessionsFitRegion:
      guard let l = luo else { break }
      let cap = LUOLimits.sessionArrayCapacity(g)
      if l.state.sessions.count > cap {
        add(
          Self.path(LUO.subnodeName).appending("sessions"), "count",
          "\(l.state.sessions.count) sessions; the \(LUOLimits.sessionRegionPages)-page session region holds \(cap)")
      }
    case .filesFitArray:
      guard let l = luo else { break }
      let cap = LUOLimits.fileArrayCapacity(g)
      for (i, s) in l.state.sessions.enumerated() where s.files.count > cap {
        add(
          Self.path(LUO.subnodeName).appending("sessions", index: i), "files",
          "session '\(s.name)' has \(s.files.count) files; a \(LUOLimits.fileArrayPages)-page file array holds \(cap)")
      }
    case .sessionsHaveNoFiles:
      guard let l = luo else { break }
      for (i, s) in l.state.sessions.enumerated() where !s.files.isEmpty {
        add(
          Self.path(LUO.subnodeName).appending("sessions", index: i), "files",
          "session '\(s.name)' has \(s.files.count) file\(s.files.count == 1 ? "" : "s")")
      }
    case .memfdNoSeals:
      guard let l = luo else { break }
      for (ref, m) in l.memfds.sorted(by: { $0.key < $1.key }) where m.state.seals != 0 || m.state.flags != 0 {
        let s = l.state.sessions[ref.session]
        let token = s.files[ref.file].token
        let what =
          m.state.seals != 0
          ? "seals 0x\(String(m.state.seals, radix: 16)) (\(Self.sealNames(m.state.seals)))"
          : "flags 0x\(String(m.state.flags, radix: 16))"
        add(
          Self.path(ref), m.state.seals != 0 ? "seals" : "flags",
          "memfd token 0x\(String(token, radix: 16)) of session '\(s.name)' has \(what)")
      }
    case .xarrayNoZeroValues, .xarrayNoMarks, .xarrayNoRanges, .xarrayKeysFit54Bits:
      for b in subBlobs {
        guard case .xarray(let x) = b.content else { continue }
        x.array.forEachEntry { e in
          let at = "index 0x\(String(e.index, radix: 16))"
          switch condition {
          case .xarrayNoZeroValues where e.element == 0: add(Self.path(b.name), at, "stores the value 0")
          case .xarrayNoMarks where !e.marks.isEmpty: add(Self.path(b.name), at, "carries marks \(e.marks)")
          case .xarrayNoRanges where e.order != 0:
            add(
              Self.path(b.name), at,
              "is a range entry of order \(e.order) (\(UInt64(1) << UInt64(min(e.order, 63))) indices)")
          case .xarrayKeysFit54Bits where e.lastIndex >> 54 != 0: add(Self.path(b.name), at, "is wider than 54 bits")
          default: break
          }
        }
      }
    }
    return out
  }

  /// `SEAL|GROW` for seal bits 0x5.
  static func sealNames(_ seals: UInt32) -> String {
    let names = ["SEAL", "SHRINK", "GROW", "WRITE", "FUTURE_WRITE", "EXEC"]
    var parts: [String] = []
    for (i, n) in names.enumerated() where seals & (1 << UInt32(i)) != 0 { parts.append(n) }
    if seals & ~MemfdState.allSeals != 0 { parts.append("0x\(String(seals & ~MemfdState.allSeals, radix: 16))") }
    return parts.joined(separator: "|")
  }
}

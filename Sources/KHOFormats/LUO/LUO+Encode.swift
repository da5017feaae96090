// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Where an encoded LUO handover was written: what the KHO root's `LUO`
/// sub-node must point at.
public struct LUOEncoded: Hashable, Sendable {
  /// The version written.
  public var version: LUOVersion
  /// The `LUO` sub-blob: an FDT (luo-v1, luo-v2) or a raw `luo_ser`.
  public var blob: PhysAddr
  /// The blob's size: FDT `totalsize`, or `sizeof(struct luo_ser)`.
  public var size: UInt64

  public init(version: LUOVersion, blob: PhysAddr, size: UInt64) {
    self.version = version
    self.blob = blob
    self.size = size
  }

  /// The KHO root FDT sub-node that refers to the blob: `blob-size` then
  /// `preserved-data` (kho-v3 and later; the kernel's property order), or
  /// only `preserved-data` (kho-v2), or `fdt` (kho-v1, FDT blobs only).
  public func khoSubnode(style: KHOSubnodeStyle = .preservedDataWithSize, order: ByteOrder)
    -> DeviceTreeNode
  {
    let props: [DeviceTreeProperty] =
      switch style {
      case .fdt: [.u64("fdt", blob.rawValue, order)]
      case .preservedData: [.u64("preserved-data", blob.rawValue, order)]
      case .preservedDataWithSize:
        [.u64("blob-size", size, order), .u64("preserved-data", blob.rawValue, order)]
      }
    return DeviceTreeNode(LUO.subnodeName, properties: props)
  }
}

/// How a KHO root FDT sub-node refers to its blob, by KHO version.
public enum KHOSubnodeStyle: String, Sendable, CaseIterable {
  /// kho-v1: `fdt` = address of a sub-FDT.
  case fdt
  /// kho-v2: `preserved-data` = address.
  case preservedData
  /// kho-v3 and later: `blob-size` and `preserved-data`.
  case preservedDataWithSize
}

/// Choices an encoder makes that the model does not fix.
public struct LUOEncodeOptions: Hashable, Sendable {
  /// luo-v1: write the `luo-flb` node (kernels with FLB support require it).
  public var v1FLBNode: Bool
  /// luo-v1: the session entries to write (later versions ignore it).
  public var v1Sessions: LUOSessionForm
  /// Refuse duplicate session names and duplicate tokens within a session,
  /// which the kernel never writes. Turn off to build malformed test images.
  public var rejectDuplicates: Bool

  public init(v1FLBNode: Bool = true, v1Sessions: LUOSessionForm = .v2, rejectDuplicates: Bool = true) {
    self.v1FLBNode = v1FLBNode
    self.v1Sessions = v1Sessions
    self.rejectDuplicates = rejectDuplicates
  }

  /// The session entries `version` gets: `v1Sessions` in luo-v1, the
  /// 80-byte form in every later version.
  public func sessionForm(_ version: LUOVersion) -> LUOSessionForm {
    version == .v1 ? v1Sessions : .v2
  }
}

extension LUO {
  /// Writes `state` as `version` into `image`, taking pages from `allocator`.
  ///
  /// Every structure gets its own zeroed pages, in a fixed order (the FDT
  /// page, `luo_ser`, the FLB page, each session's file array or chain,
  /// then the session region or chain), so one input always gives the same
  /// bytes.
  ///
  /// - Throws: `EncodeError/Kind/notRepresentable` naming the session,
  ///   file or field a version cannot hold (see ``check(_:as:geometry:options:path:)``);
  ///   the allocator's `EncodeError/Kind/outOfMemory`.
  public static func encode(
    _ state: LUOState, as version: LUOVersion, into image: PhysicalImage,
    allocator: inout PageAllocator, options: LUOEncodeOptions = .init(),
    path: DecodePath = DecodePath.root.appending(subnodeName)
  ) throws(EncodeError) -> LUOEncoded {
    let g = image.geometry
    let order = g.byteOrder
    try check(state, as: version, geometry: g, options: options, path: path)
    let form = options.sessionForm(version)

    var fdtPage: PhysAddr = .zero
    var ser: PhysAddr = .zero
    if version.container == .fdt { fdtPage = try allocator.allocate(in: image) }
    if version != .v1 { ser = try allocator.allocate(in: image) }

    var flbPage: PhysAddr = .zero
    if version != .v1 || options.v1FLBNode {
      flbPage = try allocator.allocate(pages: LUOLimits.flbPages, in: image)
      var bytes: [UInt8] = []
      LUOEntries.appendU64(&bytes, UInt64(LUOLimits.flbPages), order)
      LUOEntries.appendU64(&bytes, UInt64(state.flbs.count), order)
      for f in state.flbs { bytes += LUOEntries.flb(f, order) }
      _PageWriter.write(bytes, at: flbPage, in: image)
    }

    // Files of each session.
    var sessionEntries: [UInt8] = []
    sessionEntries.reserveCapacity(state.sessions.count * form.entrySize)
    let fileLayout = BlockLayout(entrySize: LUOLimits.fileEntrySize, geometry: g)
    for (i, s) in state.sessions.enumerated() {
      var files: [UInt8] = []
      files.reserveCapacity(s.files.count * LUOLimits.fileEntrySize)
      for f in s.files { files += LUOEntries.file(f, order) }
      var head: PhysAddr = .zero
      if !s.files.isEmpty {
        switch version.fileLayout {
        case .array:
          head = try allocator.allocate(pages: LUOLimits.fileArrayPages, in: image)
          _PageWriter.write(files, at: head, in: image)
        case .blocks:
          guard let fileLayout else {
            throw EncodeError(.library, "no block layout for 64-byte entries", path: path)
          }
          head = try BlockList.encode(
            files, layout: fileLayout, into: image, allocator: &allocator,
            path: path.appending("sessions", index: i).appending("files")
          ).head
        }
      }
      if form == .v1 {
        LUOEntries.appendString(&sessionEntries, s.name, size: LUOLimits.sessionNameLength)
      } else {
        sessionEntries += LUOEntries.session(s.name, files: head, count: s.files.count, order)
      }
    }

    // Sessions, last: the 16-page region of the array versions (luo-v1
    // always has one, later versions only when there are sessions), or the
    // session chain. Most of a region is zero; placing it last keeps the
    // golden vectors and fuzz seeds small.
    var sessionsPA: PhysAddr = .zero
    switch version.sessionLayout {
    case .array:
      var region: PhysAddr = .zero
      if version == .v1 || !state.sessions.isEmpty {
        region = try allocator.allocate(pages: LUOLimits.sessionRegionPages, in: image)
      }
      sessionsPA = region
      if !region.isZero {
        var bytes: [UInt8] = []
        LUOEntries.appendU64(&bytes, UInt64(state.sessions.count), order)
        _PageWriter.write(bytes + sessionEntries, at: region, in: image)
      }
    case .blocks:
      guard let layout = BlockLayout(entrySize: LUOLimits.sessionEntrySize, geometry: g) else {
        throw EncodeError(.library, "no block layout for 80-byte entries", path: path)
      }
      sessionsPA =
        try BlockList.encode(
          sessionEntries, layout: layout, into: image, allocator: &allocator,
          path: path.appending("sessions")
        ).head
    }

    // luo_ser.
    if !ser.isZero {
      var bytes: [UInt8] = []
      if version == .features {
        for _ in 0..<3 { LUOEntries.appendU64(&bytes, LUOVersion.knownFeatures, order) }
        bytes += repeatElement(0, count: FeatureHeader.size - 24)
      } else if version.container == .raw {
        LUOEntries.appendString(&bytes, version.compatible, size: version.compatibleFieldLength)
      }
      LUOEntries.appendU64(&bytes, state.liveUpdateNumber, order)
      LUOEntries.appendU64(&bytes, sessionsPA.rawValue, order)
      LUOEntries.appendU64(&bytes, flbPage.rawValue, order)
      _PageWriter.write(bytes, at: ser, in: image)
    }

    // The FDT container.
    guard version.container == .fdt else {
      return LUOEncoded(version: version, blob: ser, size: UInt64(version.serSize))
    }
    var root = DeviceTreeNode("", properties: [.string("compatible", version.compatible)])
    if version == .v1 {
      root.properties.append(.u64(LUOv1FDT.liveUpdateNumber, state.liveUpdateNumber, order))
      root.children.append(
        DeviceTreeNode(
          LUOv1FDT.sessionNode,
          properties: [
            .string("compatible", options.v1Sessions.rawValue),
            .u64(LUOv1FDT.sessionHeader, sessionsPA.rawValue, order),
          ]))
      if options.v1FLBNode {
        root.children.append(
          DeviceTreeNode(
            LUOv1FDT.flbNode,
            properties: [
              .string("compatible", LUOv1FDT.flbCompatible),
              .u64(LUOv1FDT.flbHeader, flbPage.rawValue, order),
            ]))
      }
    } else {
      root.properties.append(.u64(LUOv2FDT.abiHeader, ser.rawValue, order))
    }
    let dtb = try FDTBuilder.build(root)
    guard dtb.count <= g.pageSize else {
      throw EncodeError(.outOfRange, "LUO FDT of \(dtb.count) bytes exceeds one page", path: path)
    }
    _PageWriter.write(dtb, at: fdtPage, in: image)
    return LUOEncoded(version: version, blob: fdtPage, size: UInt64(dtb.count))
  }

  /// Refuses, with the session, file or field named, what `version` cannot
  /// hold: more sessions than the version's array or chain cap, more files
  /// in one session than its array or chain cap, more FLBs than one page
  /// holds, names over 63 bytes (sessions) or 47 bytes (compatibles, FLB
  /// names), strings with a NUL inside, FLBs in a luo-v1 FDT without the
  /// `luo-flb` node, and (unless allowed) duplicate names or tokens.
  public static func check(
    _ state: LUOState, as version: LUOVersion, geometry g: PageGeometry,
    options: LUOEncodeOptions = .init(), path: DecodePath = DecodePath.root.appending(subnodeName)
  ) throws(EncodeError) {
    let namesOnly = options.sessionForm(version) == .v1
    let maxSessions = namesOnly ? LUOLimits.sessionArrayCapacity(g, form: .v1) : version.maxSessions(g)
    guard state.sessions.count <= maxSessions else {
      let why =
        version.sessionLayout == .array
        ? "its \(LUOLimits.sessionRegionPages)-page session region" : "\(BlockLayout.maxBlocks) blocks"
      throw EncodeError(
        .notRepresentable,
        "\(version) holds at most \(maxSessions) sessions (\(why)); the state has \(state.sessions.count)",
        path: path.appending("sessions"))
    }
    let maxFiles = version.maxFilesPerSession(g)
    var names = Set<String>()
    for (i, s) in state.sessions.enumerated() {
      let spath = path.appending("sessions", index: i)
      try checkString(s.name, LUOLimits.sessionNameLength, "session name", spath.appending("name"))
      if options.rejectDuplicates, !names.insert(s.name).inserted {
        throw EncodeError(.duplicate, "session name '\(s.name)' is used twice", path: spath.appending("name"))
      }
      if namesOnly && !s.files.isEmpty {
        throw EncodeError(
          .notRepresentable,
          "session '\(s.name)' has \(s.files.count) files; luo-session-v1 entries hold only a name",
          path: spath.appending("files"))
      }
      guard s.files.count <= maxFiles else {
        let why =
          version.fileLayout == .array
          ? "its \(LUOLimits.fileArrayPages)-page file array" : "\(BlockLayout.maxBlocks) blocks"
        throw EncodeError(
          .notRepresentable,
          "session '\(s.name)' has \(s.files.count) files; \(version) holds at most \(maxFiles) per session (\(why))",
          path: spath.appending("files"))
      }
      var tokens = Set<UInt64>()
      for (j, f) in s.files.enumerated() {
        let fpath = spath.appending("files", index: j)
        try checkString(f.compatible, LUOLimits.fileCompatibleLength, "file compatible", fpath.appending("compatible"))
        if options.rejectDuplicates, !tokens.insert(f.token).inserted {
          throw EncodeError(
            .duplicate, "token \(f.token) is used twice in session '\(s.name)'", path: fpath.appending("token"))
        }
      }
    }
    if version == .v1, !options.v1FLBNode, !state.flbs.isEmpty {
      throw EncodeError(
        .notRepresentable, "a luo-v1 FDT without the luo-flb node cannot hold \(state.flbs.count) FLBs",
        path: path.appending("flbs"))
    }
    let maxFLBs = LUOLimits.flbCapacity(g)
    guard state.flbs.count <= maxFLBs else {
      throw EncodeError(
        .notRepresentable, "the FLB page holds at most \(maxFLBs) FLBs; the state has \(state.flbs.count)",
        path: path.appending("flbs"))
    }
    for (i, f) in state.flbs.enumerated() {
      try checkString(f.name, LUOLimits.flbNameLength, "FLB name", path.appending("flbs", index: i).appending("name"))
    }
  }

  /// The versions that can express `state` with `geometry`, oldest first.
  public static func versions(thatCanExpress state: LUOState, geometry: PageGeometry) -> [LUOVersion] {
    LUOVersion.allCases.filter { v in
      do {
        try check(state, as: v, geometry: geometry)
        return true
      } catch {
        return false
      }
    }
  }

  static func checkString(_ s: String, _ field: Int, _ what: String, _ path: DecodePath) throws(EncodeError) {
    let n = s.utf8.count
    guard !s.utf8.contains(0) else {
      throw EncodeError(.badString, "\(what) '\(s)' contains a NUL byte", path: path)
    }
    guard n <= field - 1 else {
      throw EncodeError(
        .notRepresentable,
        "\(what) '\(s)' is \(n) bytes; the \(field)-byte field holds at most \(field - 1)", path: path)
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The LUO decoder shared by ``LUO/decode(from:blob:size:path:)`` (strict)
/// and ``LUO/decodeReporting(from:blob:size:path:)`` (lenient).
struct _LUODecoder {
  let memory: any PhysicalMemory
  let g: PageGeometry
  let path: DecodePath
  var problems: DecodeProblems
  var layout: LUOLayout
  var claims: PageClaims

  init(memory: any PhysicalMemory, path: DecodePath, strict: Bool) {
    self.memory = memory
    self.g = memory.geometry
    self.path = path
    self.problems = DecodeProblems(strict: strict)
    self.claims = PageClaims(geometry: memory.geometry)
    self.layout = LUOLayout(blob: .zero, blobSize: 0, geometry: memory.geometry)
  }

  var sessionsPath: DecodePath { path.appending("sessions") }
  var flbsPath: DecodePath { path.appending("flbs") }

  mutating func run(blob: PhysAddr, size: UInt64?, expecting: LUOVersion?) throws(DecodeError)
    -> LUODecoded
  {
    layout = LUOLayout(blob: blob, blobSize: size ?? 0, geometry: g)
    guard !blob.isZero else {
      throw DecodeError(.missing, "the LUO blob address is 0", path: path)
    }
    let magic = try memory.reader(at: blob, count: 4, path: path)
    let isFDT = (try? ByteReader(magic.bytes, order: .big).integer(at: 0, as: UInt32.self)) == 0xd00d_feed
    let decoded = isFDT ? try decodeFDT(blob, size, expecting) : try decodeRaw(blob, size, expecting)
    return decoded
  }

  // MARK: Containers

  mutating func decodeFDT(_ blob: PhysAddr, _ size: UInt64?, _ expecting: LUOVersion?)
    throws(DecodeError) -> LUODecoded
  {
    let n: Int
    if let size {
      guard size <= UInt64(LUO.maxFDTSize) else {
        throw DecodeError(
          .limitExceeded, "blob-size \(size) is over the \(LUO.maxFDTSize)-byte limit for an FDT",
          path: path, address: blob)
      }
      n = Int(size)
    } else {
      let h = try memory.reader(at: blob, count: 8, path: path)
      let total: UInt32 = try ByteReader(h.bytes, order: .big).integer(at: 4)
      guard total <= UInt32(LUO.maxFDTSize) else {
        throw DecodeError(
          .limitExceeded, "FDT totalsize \(total) is over the \(LUO.maxFDTSize)-byte limit",
          path: path, address: blob.advanced(by: 4))
      }
      n = Int(total)
    }
    let bytes = try memory.bytes(at: blob, count: n, path: path)
    let fdt: FDT
    do {
      fdt = try FDT(parsing: bytes, allowTrailingBytes: true)
    } catch {
      var e = error
      e.path = path
      if let off = e.offset {
        e.address = blob.advanced(by: UInt64(off))
        e.offset = nil
      }
      throw e
    }
    layout.blobSize = UInt64(fdt.header.totalSize)
    try claim(PhysRange(start: blob, size: layout.blobSize), path)
    let order = g.byteOrder
    let root = fdt.root
    let compat = root.property("compatible")?.strings ?? []
    let version: LUOVersion
    if compat.contains(LUOVersion.v1.compatible) {
      version = .v1
    } else if compat.contains(LUOVersion.v2.compatible) {
      version = .v2
    } else {
      throw DecodeError(
        .unknownVersion,
        "LUO FDT compatible \(compat.isEmpty ? "is missing" : "'\(compat.joined(separator: "', '"))' is not luo-v1 or luo-v2")",
        path: path, address: blob)
    }
    try expect(version, expecting, blob)

    func u64(_ node: FDT.Node, _ name: String, _ nodePath: DecodePath) throws(DecodeError) -> UInt64? {
      guard let p = node.property(name) else {
        try problems.report(
          DecodeError(
            .missing, "property \(name) is missing", path: nodePath, address: blob.advanced(by: UInt64(node.offset))))
        return nil
      }
      guard let v = p.u64(order) else {
        try problems.report(
          DecodeError(
            .outOfRange, "\(name) must be 8 bytes, is \(p.length)", path: nodePath,
            address: blob.advanced(by: UInt64(p.valueOffset))))
        return nil
      }
      return v
    }

    var number: UInt64 = 0
    var sessions: [LUOSession] = []
    var flbs: [LUOFLB] = []
    if version == .v1 {
      number = try u64(root, LUOv1FDT.liveUpdateNumber, path) ?? 0
      let spath = path.appending(LUOv1FDT.sessionNode)
      if let node = root.child(LUOv1FDT.sessionNode) {
        let c = node.property("compatible")?.strings ?? []
        // The merged form first, should a node list both.
        let form = [LUOSessionForm.v2, .v1].first { c.contains($0.rawValue) }
        layout.sessionCompatible = form?.rawValue
        if form == nil {
          try problems.report(
            DecodeError(
              .unknownVersion, "luo-session compatible '\(c.joined(separator: "', '"))' is not luo-session-v2 or -v1",
              path: spath, address: blob.advanced(by: UInt64(node.offset))))
        }
        if let form, let header = try u64(node, LUOv1FDT.sessionHeader, spath) {
          if header == 0 {
            try problems.report(
              DecodeError(
                .missing, "luo-session-header is 0", path: spath, address: blob.advanced(by: UInt64(node.offset))))
          } else {
            sessions = try readSessionArray(PhysAddr(header), entrySize: form.entrySize, version: version)
          }
        }
      } else {
        try problems.report(
          DecodeError(.missing, "the luo-session node is missing", path: spath, address: blob))
      }
      if let node = root.child(LUOv1FDT.flbNode) {
        let fpath = path.appending(LUOv1FDT.flbNode)
        let c = node.property("compatible")?.strings ?? []
        if !c.contains(LUOv1FDT.flbCompatible) {
          try problems.report(
            DecodeError(
              .unknownVersion, "luo-flb compatible '\(c.joined(separator: "', '"))' is not luo-flb-v1",
              path: fpath, address: blob.advanced(by: UInt64(node.offset))))
        } else if let header = try u64(node, LUOv1FDT.flbHeader, fpath) {
          flbs = try readFLBs(PhysAddr(header))
        }
      } else {
        layout.flbNodePresent = false
      }
    } else {
      if let ser = try u64(root, LUOv2FDT.abiHeader, path) {
        guard ser != 0 else {
          throw DecodeError(.missing, "luo-abi-header is 0", path: path, address: blob)
        }
        let serAddr = PhysAddr(ser)
        layout.ser = serAddr
        let spath = path.appending("luo_ser")
        try claim(PhysRange(start: serAddr, size: UInt64(version.serSize)), spath)
        var r = try memory.reader(at: serAddr, count: version.serSize, path: spath)
        number = try r.u64()
        let sessionsPA = try r.address()
        let flbsPA = try r.address()
        layout.sessions = sessionsPA
        layout.flbs = flbsPA
        if !sessionsPA.isZero {
          sessions = try readSessionArray(sessionsPA, entrySize: LUOLimits.sessionEntrySize, version: version)
        }
        flbs = try readFLBs(flbsPA)
      }
    }
    return LUODecoded(
      version: version, state: LUOState(liveUpdateNumber: number, sessions: sessions, flbs: flbs),
      layout: layout)
  }

  mutating func decodeRaw(_ blob: PhysAddr, _ size: UInt64?, _ expecting: LUOVersion?)
    throws(DecodeError) -> LUODecoded
  {
    // The compatible string comes first; its length fixes the struct size.
    let toPageEnd = g.pageSize - blob.pageOffset(g)
    var window = Swift.min(64, toPageEnd)
    if let size { window = Swift.min(window, Int(clamping: size)) }
    let head = try memory.bytes(at: blob, count: window, path: path).array
    // The feature-flag LUO has no string: a small feature word comes first.
    if head.count >= 8, Array(head.prefix(4)) != Array("luo-".utf8),
      g.byteOrder == .little
        ? head[0] != 0 && head[1..<8].allSatisfy({ $0 == 0 }) : head[7] != 0 && head[0..<7].allSatisfy({ $0 == 0 })
    {
      return try decodeRawBody(blob, size, .features, expecting)
    }
    guard let nul = head.firstIndex(of: 0) else {
      throw DecodeError(
        .unknownVersion,
        "the blob is neither an FDT nor a luo_ser: no NUL-terminated compatible in its first \(window) bytes",
        path: path, address: blob)
    }
    guard let text = String(validating: head[..<nul], as: UTF8.self),
      let version = LUOVersion(compatible: text), version.container == .raw
    else {
      let shown = String(decoding: head[..<nul], as: UTF8.self)
      throw DecodeError(
        .unknownVersion,
        "luo_ser compatible '\(shown)' is not luo-v3, luo-v4, luo-v5, luo-v5;block-v1 or luo-v3/v4-kho-block-v1",
        path: path, address: blob)
    }
    return try decodeRawBody(blob, size, version, expecting)
  }

  mutating func decodeRawBody(_ blob: PhysAddr, _ size: UInt64?, _ version: LUOVersion, _ expecting: LUOVersion?)
    throws(DecodeError) -> LUODecoded
  {
    try expect(version, expecting, blob)
    let serSize = version.serSize
    if let size, size < UInt64(serSize) {
      try problems.report(
        DecodeError(
          .truncated, "blob-size \(size) is smaller than the \(serSize)-byte \(version) luo_ser",
          path: path, address: blob))
    }
    layout.ser = blob
    layout.blobSize = UInt64(serSize)
    try claim(PhysRange(start: blob, size: UInt64(serSize)), path)
    var r = try memory.reader(at: blob, count: serSize, path: path)
    if version.hasCompatibleString {
      try r.skip(version.compatibleFieldLength)
    } else {
      try FeatureHeader.check(&r, known: LUOVersion.knownFeatures, what: "luo_ser", &problems)
    }
    let number = try r.u64()
    let sessionsPA = try r.address()
    let flbsPA = try r.address()
    layout.sessions = sessionsPA
    layout.flbs = flbsPA
    var sessions: [LUOSession] = []
    if !sessionsPA.isZero {
      switch version.sessionLayout {
      case .array:
        sessions = try readSessionArray(sessionsPA, entrySize: LUOLimits.sessionEntrySize, version: version)
      case .blocks:
        sessions = try readSessionChain(sessionsPA, version: version)
      }
    }
    let flbs = try readFLBs(flbsPA)
    return LUODecoded(
      version: version, state: LUOState(liveUpdateNumber: number, sessions: sessions, flbs: flbs),
      layout: layout)
  }

  func expect(_ found: LUOVersion, _ expected: LUOVersion?, _ blob: PhysAddr) throws(DecodeError) {
    if let expected, expected != found {
      throw DecodeError(
        .unknownVersion, "expected \(expected) but the blob is \(found)", path: path, address: blob)
    }
  }

  // MARK: Sessions

  mutating func readSessionArray(_ region: PhysAddr, entrySize: Int, version: LUOVersion)
    throws(DecodeError) -> [LUOSession]
  {
    layout.sessions = region
    var header = try memory.reader(at: region, count: LUOLimits.sessionHeaderSize, path: sessionsPath)
    let declared = try header.u64()
    layout.sessionHeaderCount = declared
    let cap = (LUOLimits.sessionRegionPages * g.pageSize - LUOLimits.sessionHeaderSize) / entrySize
    var count = Int(clamping: declared)
    if declared > UInt64(cap) {
      try problems.report(
        DecodeError(
          .badCount,
          "session count \(declared) exceeds the \(cap) that fit in the \(LUOLimits.sessionRegionPages)-page region",
          path: sessionsPath, address: region))
      count = cap
    }
    let bytes = 8 + count * entrySize
    guard try claim(PhysRange(start: region, size: UInt64(bytes)), sessionsPath) else { return [] }
    let all: ByteReader
    do {
      all = try memory.reader(at: region, count: bytes, path: sessionsPath)
    } catch {
      try problems.report(error)
      return []
    }
    var out: [LUOSession] = []
    out.reserveCapacity(count)
    for i in 0..<count {
      let off = 8 + i * entrySize
      guard let entry = all.bytes.extracting(off, count: entrySize) else { break }
      let spath = sessionsPath.index(i)
      var r = ByteReader(entry, order: g.byteOrder, path: spath, base: region.advanced(by: UInt64(off)))
      out.append(try readSession(&r, index: i, hasFiles: entrySize == LUOLimits.sessionEntrySize, version: version))
    }
    return out
  }

  mutating func readSessionChain(_ head: PhysAddr, version: LUOVersion) throws(DecodeError) -> [LUOSession] {
    guard let bl = BlockLayout(entrySize: LUOLimits.sessionEntrySize, geometry: g) else { return [] }
    let chain = try BlockList.walk(memory, head, bl, sessionsPath, &problems, &claims)
    layout.sessionBlocks = chain.blocks
    for (i, b) in chain.blocks.enumerated() {
      layout.regions.append(
        LUORegion(
          path: sessionsPath.appending("block", index: i), range: PhysRange(start: b.address, size: g.pageSize64)))
    }
    var out: [LUOSession] = []
    out.reserveCapacity(chain.count)
    for i in 0..<chain.count {
      guard var r = chain.reader(forEntry: i, path: sessionsPath.index(i)) else { break }
      out.append(try readSession(&r, index: i, hasFiles: true, version: version))
    }
    return out
  }

  mutating func readSession(_ r: inout ByteReader, index i: Int, hasFiles: Bool, version: LUOVersion)
    throws(DecodeError) -> LUOSession
  {
    let name = try LUOEntries.string(&r, size: LUOLimits.sessionNameLength, &problems)
    guard hasFiles else {
      layout.sessionEntries.append(r.base ?? .zero)
      layout.fileSets.append(LUOFileSetLayout(files: .zero, declaredCount: 0, readCount: 0, blocks: []))
      return LUOSession(name: name)
    }
    layout.sessionEntries.append(r.base ?? .zero)
    let countAddress = r.base.flatMap { $0.advanced(by: 72) }
    let files = try r.address()
    let count = try r.u64()
    let list = try readFiles(session: i, files: files, count: count, countAddress: countAddress, version: version)
    return LUOSession(name: name, files: list)
  }

  // MARK: Files

  mutating func readFiles(
    session i: Int, files: PhysAddr, count declared: UInt64, countAddress: PhysAddr?, version: LUOVersion
  ) throws(DecodeError) -> [LUOFile] {
    let fpath = sessionsPath.index(i).appending("files")
    var set = LUOFileSetLayout(files: files, declaredCount: declared, readCount: 0, blocks: [])
    defer { layout.fileSets.append(set) }
    var entries: [ByteReader] = []
    switch version.fileLayout {
    case .array:
      guard declared > 0 else { return [] }
      let cap = LUOLimits.fileArrayCapacity(g)
      var count = Int(clamping: declared)
      if declared > UInt64(cap) {
        try problems.report(
          DecodeError(
            .badCount,
            "file count \(declared) exceeds the \(cap) that fit in the \(LUOLimits.fileArrayPages)-page array",
            path: fpath, address: countAddress))
        count = cap
      }
      guard !files.isZero else {
        try problems.report(
          DecodeError(
            .missing, "file count is \(declared) but the file array address is 0", path: fpath, address: countAddress))
        return []
      }
      let bytes = count * LUOLimits.fileEntrySize
      guard try claim(PhysRange(start: files, size: UInt64(bytes)), fpath) else { return [] }
      let all: Bytes
      do {
        all = try memory.bytes(at: files, count: bytes, path: fpath)
      } catch {
        try problems.report(error)
        return []
      }
      for j in 0..<count {
        guard let e = all.extracting(j * LUOLimits.fileEntrySize, count: LUOLimits.fileEntrySize) else { break }
        entries.append(
          ByteReader(
            e, order: g.byteOrder, path: fpath.index(j),
            base: files.advanced(by: UInt64(j * LUOLimits.fileEntrySize))))
      }
    case .blocks:
      if files.isZero {
        if declared != 0 {
          try problems.report(
            DecodeError(
              .inconsistent, "file count is \(declared) but the session has no file chain",
              path: fpath, address: countAddress))
        }
        return []
      }
      guard let bl = BlockLayout(entrySize: LUOLimits.fileEntrySize, geometry: g) else { return [] }
      let chain = try BlockList.walk(memory, files, bl, fpath, &problems, &claims)
      set.blocks = chain.blocks
      for (k, b) in chain.blocks.enumerated() {
        layout.regions.append(
          LUORegion(path: fpath.appending("block", index: k), range: PhysRange(start: b.address, size: g.pageSize64)))
      }
      if UInt64(chain.count) != declared {
        try problems.report(
          DecodeError(
            .inconsistent, "file_set_ser.count is \(declared) but the chain holds \(chain.count) files",
            path: fpath, address: countAddress))
      }
      for j in 0..<chain.count {
        if let rd = chain.reader(forEntry: j, path: fpath.index(j)) { entries.append(rd) }
      }
    }
    var out: [LUOFile] = []
    out.reserveCapacity(entries.count)
    set.entries = entries.map { $0.base ?? .zero }
    for var r in entries {
      let compatible = try LUOEntries.string(&r, size: LUOLimits.fileCompatibleLength, &problems)
      let data = try r.address()
      let token = try r.u64()
      out.append(LUOFile(compatible: compatible, token: token, data: data))
    }
    set.readCount = out.count
    return out
  }

  // MARK: FLBs

  mutating func readFLBs(_ address: PhysAddr) throws(DecodeError) -> [LUOFLB] {
    layout.flbs = address
    guard !address.isZero else { return [] }
    var h: ByteReader
    do {
      h = try memory.reader(at: address, count: LUOLimits.flbHeaderSize, path: flbsPath)
    } catch {
      try problems.report(error)
      return []
    }
    var pgcnt = try h.u64()
    let declared = try h.u64()
    if pgcnt == 0 || pgcnt > UInt64(LUOLimits.maxFLBPages) {
      try problems.report(
        h.error(.outOfRange, "FLB pgcnt is \(pgcnt); expected 1 (at most \(LUOLimits.maxFLBPages) accepted)", at: 0))
      pgcnt = 1
    }
    let cap = LUOLimits.flbCapacity(g, pages: Int(pgcnt))
    var count = Int(clamping: declared)
    if declared > UInt64(cap) {
      try problems.report(
        h.error(.badCount, "FLB count \(declared) exceeds the \(cap) that fit in \(pgcnt) page(s)", at: 8))
      count = cap
    }
    let bytes = LUOLimits.flbHeaderSize + count * LUOLimits.flbEntrySize
    guard try claim(PhysRange(start: address, size: UInt64(bytes)), flbsPath) else { return [] }
    let all: Bytes
    do {
      all = try memory.bytes(at: address, count: bytes, path: flbsPath)
    } catch {
      try problems.report(error)
      return []
    }
    var out: [LUOFLB] = []
    for i in 0..<count {
      let off = LUOLimits.flbHeaderSize + i * LUOLimits.flbEntrySize
      guard let e = all.extracting(off, count: LUOLimits.flbEntrySize) else { break }
      var r = ByteReader(e, order: g.byteOrder, path: flbsPath.index(i), base: address.advanced(by: UInt64(off)))
      let name = try LUOEntries.string(&r, size: LUOLimits.flbNameLength, &problems)
      let data = try r.u64()
      let c = try r.u64()
      out.append(LUOFLB(name: name, data: data, count: c))
    }
    return out
  }

  // MARK: Page ownership

  /// Records `range` as read for `owner`; reports and returns false when
  /// part of it already belongs to another structure.
  @discardableResult
  mutating func claim(_ range: PhysRange, _ owner: DecodePath) throws(DecodeError) -> Bool {
    if let e = claims.claim(range, for: owner) {
      try problems.report(e)
      return false
    }
    layout.regions.append(LUORegion(path: owner, range: range))
    return true
  }
}

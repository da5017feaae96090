// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats
import KHOImage
import XArray

/// Decodes everything reachable from a handover's root and collects every
/// problem instead of stopping at the first.
///
/// Order: root FDT → KHO root model → preserved-memory map → each sub-blob
/// (LUO with sessions, files, FLBs and memfd state; kexec-metadata;
/// memblock; others listed as opaque) → cross-checks (pages referenced but
/// not preserved, overlapping preserved ranges, scratch overlapping
/// preserved memory, declared sizes). Reads go through a
/// `RecordingMemory` so that ``touchedRanges`` lists every page used.
public final class HandoverWalker {
  public let source: HandoverSource
  public let memory: RecordingMemory
  public private(set) var report: HandoverReport
  /// The decoded preserved set, when the map could be read.
  public private(set) var preserved: PreservedSet?
  /// Whether every node of the map was read (so "not preserved" is a fact).
  public private(set) var preservedComplete = false
  public private(set) var root: KHORoot?
  public private(set) var rootFDT: FDT?
  public private(set) var luo: LUODecoded?
  /// Every payload of a LUO file, FLB or root sub-node, decoded.
  public private(set) var payloads = PayloadInventory()

  public init(source: HandoverSource) {
    self.source = source
    self.memory = RecordingMemory(source.memory)
    let g = source.memory.geometry
    report = HandoverReport(
      source: SourceInfo(
        path: source.path, kind: source.kind.rawValue, pageSize: g.pageSize, byteOrder: g.byteOrder,
        segments: source.memory.segments.count, capturedBytes: source.memory.capturedBytes))
    report.scratch = source.scratch
  }

  var order: ByteOrder { memory.geometry.byteOrder }

  /// Runs the walk once; later calls return the same report.
  @discardableResult
  public func walk() -> HandoverReport {
    guard rootFDT == nil, report.root == nil else { return report }
    add(source.loadProblems)
    guard let fdt = readRoot() else { return finish() }
    rootFDT = fdt
    let decoded = KHORoot.decodeReporting(fdt, byteOrder: order)
    add(decoded.allProblems)
    let root = decoded.value
    self.root = root
    report.root = RootInfo(
      address: source.rootAddress, compatible: fdt.root.property("compatible")?.string,
      version: root?.version.rawValue, totalSize: Int(fdt.header.totalSize),
      memoryMap: root.map { $0.memoryMap })
    guard let root else { return finish() }
    walkMemoryMap(root)
    for blob in root.subBlobs { walkSubBlob(blob, root: root) }
    crossCheck(root)
    return finish()
  }

  /// Every captured page the walk read, as ranges (for bundles).
  public var touchedRanges: [PhysRange] { memory.touchedRanges }

  // MARK: - Steps

  private func readRoot() -> FDT? {
    do {
      let fdt = try source.rootFDT()
      if let a = source.rootAddress {
        memory.touch(PhysRange(start: a, size: UInt64(fdt.header.totalSize)))
      }
      return fdt
    } catch {
      add([error])
      return nil
    }
  }

  private func walkMemoryMap(_ root: KHORoot) {
    let path = DecodePath.root.appending("preserved-memory-map")
    guard !root.memoryMap.isZero else {
      report.problems.append(
        Problem(
          .error, kind: "missing", path: path,
          message: "preserved-memory-map is 0: the next kernel will refuse the handover (not finalized?)"))
      return
    }
    let format = root.version.memoryMapFormat
    var info = MemoryMapInfo(
      format: format.rawValue, address: root.memoryMap, entries: 0, pages: 0, bytes: 0, perOrder: [:])
    let r = PreservedMemoryMap.decodeReporting(format, from: memory, at: root.memoryMap, path: path)
    add(r.allProblems)
    preservedComplete = r.isClean
    let set = r.value?.set ?? PreservedSet(geometry: memory.geometry)
    switch r.value?.shape {
    case .radix(let stats):
      info.tableNodesByLevel = stats.tableNodesByLevel
      info.leaves = stats.leaves
      info.emptyLeaves = stats.emptyLeaves
    case .bitmapChunks(let stats):
      info.chunks = stats.chunks
    case nil:
      break
    }
    info.entries = set.count
    info.pages = set.pageCount
    info.bytes = set.byteCount
    for o in set.orders { info.perOrder[String(o)] = set.count(order: o) }
    preserved = set
    report.memoryMap = info
  }

  private func walkSubBlob(_ blob: KHOSubBlob, root: KHORoot) {
    let path = DecodePath.root.appending(blob.name)
    var info = ComponentInfo(
      name: blob.name, path: path.description, address: blob.address, size: blob.size,
      container: "raw", compatible: nil, status: .opaque, summary: nil)
    defer { report.components.append(info) }
    // Peek: an FDT, or a raw struct whose first bytes may be a string.
    // Up to 48 bytes (a compatible field's size) when captured, else 8.
    let peek = Int(Swift.min(Swift.max(blob.size ?? 48, 8), 48))
    let head: Bytes
    do throws(DecodeError) {
      if let h = try? memory.bytes(at: blob.address, count: peek) {
        head = h
      } else {
        head = try memory.bytes(at: blob.address, count: 8, path: path)
      }
    } catch {
      info.status = error.kind == .notCaptured ? .notCaptured : .failed
      add([error])
      return
    }
    let isFDT = (try? FDTHeader(reading: head)) != nil || head.array.prefix(4) == [0xd0, 0x0d, 0xfe, 0xed]
    var fdt: FDT?
    if isFDT {
      info.container = "fdt"
      do throws(DecodeError) {
        let size = try blob.resolvedSize(in: memory)
        info.size = size
        guard size <= UInt64(LUO.maxFDTSize) else {
          throw DecodeError(.limitExceeded, "sub-FDT of \(size) bytes", path: path, address: blob.address)
        }
        fdt = try FDT(
          parsing: try memory.bytes(at: blob.address, count: Int(size), path: path), allowTrailingBytes: true)
        info.compatible = fdt?.root.property("compatible")?.string
      } catch {
        info.status = error.kind == .notCaptured ? .notCaptured : .failed
        add([error.at(path)])
        return
      }
    } else {
      var r = ByteReader(head, order: order)
      if let s = try? r.cString(limit: head.count), !s.isEmpty,
        s.unicodeScalars.allSatisfy({ (0x21...0x7e).contains($0.value) })
      {
        info.compatible = s
      }
    }
    switch blob.name {
    case LUO.subnodeName:
      walkLUO(blob, path: path, info: &info)
    case KexecMetadata.nodeName:
      do throws(DecodeError) {
        let b = try memory.bytes(
          at: blob.address, count: Int(min(blob.size ?? UInt64(KexecMetadata.size), 4096)), path: path)
        let m = try KexecMetadata(decoding: b, byteOrder: order, path: path, base: blob.address)
        report.kexecMetadata = m
        info.status = .decoded
        info.summary = "version \(m.version), previous release \(m.previousRelease), kexec count \(m.kexecCount)"
      } catch {
        info.status = error.kind == .notCaptured ? .notCaptured : .failed
        add([error])
      }
    case Memblock.nodeName:
      guard let fdt else { return }
      do {
        let regions = try Memblock.decode(fdt, order: order, path: path)
        report.memblock = regions
        info.status = .decoded
        info.summary = "\(regions.count) reserve_mem region\(regions.count == 1 ? "" : "s")"
      } catch {
        info.status = .failed
        add([error])
      }
    default:
      if let magic: UInt32 = try? ByteReader(head, order: order).integer(at: 0), magic == KHOXArrayV2.magic {
        info.compatible = "kho-xarray-v2"
        do throws(DecodeError) {
          let view = try KHOXArrayV2View(memory: memory, at: blob.address, path: path, verifyChecksums: true)
          info.status = .decoded
          info.summary = "\(view.count) entr\(view.count == 1 ? "y" : "ies"), keys up to \(view.header.keyBits) bits"
        } catch {
          info.status = error.kind == .notCaptured ? .notCaptured : .failed
          add([error])
        }
      } else if Payloads.isKnown(blob.name, host: .subnode) {
        // Decoded with the other payloads once the map is known (see crossCheck).
        info.status = .opaque
      } else {
        info.status = .opaque
      }
    }
  }

  private func walkLUO(_ blob: KHOSubBlob, path: DecodePath, info: inout ComponentInfo) {
    let r = LUO.decodeReporting(from: memory, blob: blob.address, size: blob.size, path: path)
    add(r.allProblems)
    guard let d = r.value else {
      info.status = .failed
      return
    }
    luo = d
    info.status = .decoded
    info.compatible = d.version.rawValue
    info.summary = "\(d.state.sessions.count) sessions, \(d.state.fileCount) files, \(d.state.flbs.count) FLBs"
    var sessions: [LUOInfo.Session] = []
    for s in d.state.sessions {
      var files: [LUOInfo.File] = []
      for f in s.files {
        var m: MemfdInfo?
        if let mv = MemfdVersion(rawValue: f.compatible),
          let md = try? Memfd.decode(from: memory, at: f.data, version: mv)
        {
          m = MemfdInfo(
            version: mv.rawValue, size: md.state.size, pos: md.state.pos, seals: md.state.seals,
            folios: md.state.folios.count)
        }
        files.append(LUOInfo.File(compatible: f.compatible, token: f.token, data: f.data, memfd: m))
      }
      sessions.append(LUOInfo.Session(name: s.name, files: files))
    }
    report.luo = LUOInfo(
      version: d.version.rawValue, blob: d.layout.blob, blobSize: d.layout.blobSize,
      liveupdateNumber: d.state.liveUpdateNumber, sessions: sessions,
      flbs: d.state.flbs.map { .init(name: $0.name, data: "0x" + String($0.data, radix: 16), count: $0.count) })
  }

  /// Names a person will read (sessions, handlers, FLBs, sub-nodes) that
  /// hold control characters: printed escaped, and reported.
  private func nameChecks(_ root: KHORoot) {
    func check(_ name: String, _ what: String, _ path: DecodePath) {
      guard needsEscaping(name) else { return }
      report.problems.append(
        Problem(
          .warning, kind: "badString", path: path,
          message: "\(what) '\(escapeText(name))' holds control characters (shown escaped)"))
    }
    for blob in root.subBlobs { check(blob.name, "sub-node name", DecodePath.root.appending(blob.name)) }
    guard let luo else { return }
    let base = DecodePath.root.appending(LUO.subnodeName)
    for (i, s) in luo.state.sessions.enumerated() {
      check(s.name, "session name", base.appending("sessions", index: i))
      for (j, f) in s.files.enumerated() {
        check(f.compatible, "file handler", base.appending("sessions", index: i).appending("files", index: j))
      }
    }
    for (k, f) in luo.state.flbs.enumerated() { check(f.name, "FLB name", base.appending("flbs", index: k)) }
  }

  private func crossCheck(_ root: KHORoot) {
    nameChecks(root)
    let preservedSet = preservedComplete ? preserved : nil
    walkPayloads(root, preservedSet)
    let isPreserved: ((PhysAddr) -> Bool)? = preservedSet.map { set in
      { a in set.contains(pfn: a.pfn(set.geometry)) }
    }
    if let luo {
      add(luo.crossCheck(isPreserved: isPreserved, memory: memory))
    }
    guard let set = preservedSet, let isPreserved else { return }
    // The root FDT page and every sub-blob must survive the kexec.
    if let a = source.rootAddress, !isPreserved(a) {
      report.problems.append(
        Problem(
          .error, kind: "notPreserved", path: .root, address: a,
          message: "the root FDT page is not in the preserved-memory map"))
    }
    for blob in root.subBlobs where !isPreserved(blob.address) {
      report.problems.append(
        Problem(
          .error, kind: "notPreserved", path: DecodePath.root.appending(blob.name), address: blob.address,
          message: "sub-blob \(blob.name) is not preserved: the next kernel may reuse its page"))
    }
    overlapChecks(set)
  }

  /// Overlapping preserved entries (``PreservedSet/overlappingEntries(limit:)``)
  /// and scratch areas that hold preserved pages.
  private func overlapChecks(_ set: PreservedSet) {
    let g = set.geometry
    let path = DecodePath.root.appending("preserved-memory-map")
    let orders = set.orders
    for (e, other) in set.overlappingEntries(limit: 100) {
      report.problems.append(
        Problem(.error, kind: "overlap", path: path, address: e.phys, message: "entry \(e) overlaps entry \(other)"))
    }
    for (i, s) in (source.scratch ?? []).enumerated() where s.size > 0 {
      let first = s.start.pfn(g)
      let last = (s.end - 1) >> UInt64(g.pageShift)
      let hits = orders.compactMap { set.firstEntry(order: $0, overlapping: first..<last + 1) }
      if let hit = hits.min(by: { $0.phys < $1.phys }) {
        report.problems.append(
          Problem(
            .error, kind: "scratchOverlap", path: DecodePath.root.appending("scratch").index(i),
            address: s.start,
            message:
              "scratch area \(s) holds preserved memory (first: entry \(hit)); the next kernel allocates from scratch"))
      }
    }
  }

  /// Decodes every payload, runs the payload cross-checks and records the
  /// payloads in the report (files and FLBs under `luo`, sub-nodes as components).
  private func walkPayloads(_ root: KHORoot, _ set: PreservedSet?) {
    payloads = PayloadInventory.build(luo: luo, subBlobs: root.subBlobs, memory: memory, preserved: set)
    report.problems += PayloadChecks.run(payloads, preserved: set)
    let g = memory.geometry
    if var info = report.luo {
      for e in payloads.files {
        guard let i = e.session, let j = e.file, let p = e.payload
        else { continue }
        info.sessions[i].files[j].payload = p.fields
        info.sessions[i].files[j].summary = p.state.summary(g)
      }
      for (k, e) in payloads.flbs.enumerated() where k < info.flbs.count {
        info.flbs[k].payload = e.payload?.fields
        info.flbs[k].summary = e.payload?.state.summary(g)
      }
      report.luo = info
    }
    for e in payloads.subnodes {
      guard let k = report.components.firstIndex(where: { $0.name == e.name }) else { continue }
      if let p = e.payload {
        report.components[k].status = .decoded
        report.components[k].compatible = p.format
        report.components[k].summary = p.state.summary(g)
        report.components[k].payload = p.fields
      } else if !e.problems.isEmpty {
        report.components[k].status = e.problems.contains { $0.kind == .notCaptured } ? .notCaptured : .failed
      }
    }
  }

  // MARK: - Helpers

  /// Records decode errors. Memory a debugfs copy or a lone DTB lacks is
  /// expected (a note); in a core or bundle, metadata that points outside
  /// what was captured is a problem (an error).
  private func add(_ errors: [DecodeError]) {
    let partial = source.kind == .debugfs || source.kind == .dtb
    report.problems += errors.map { e in
      var p = Problem(e)
      if p.severity == .note && !partial { p.severity = .error }
      return p
    }
  }

  private func finish() -> HandoverReport {
    report.problems.sort { ($0.severity, $0.path) < ($1.severity, $1.path) }
    return report
  }
}

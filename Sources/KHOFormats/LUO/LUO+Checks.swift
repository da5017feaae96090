// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension LUODecoded {
  /// The cross-link checks a reader runs after decoding, as located problems.
  ///
  /// - Session names are unique (`DecodeError/Kind/duplicate`).
  /// - Tokens are unique within each session (`DecodeError/Kind/duplicate`).
  /// - Declared counts equal what was read: the session header (luo-v1 …
  ///   v3) and each `file_set_ser.count` (`DecodeError/Kind/inconsistent`).
  /// - With `isPreserved` (is the page holding this address in the
  ///   handover's preserved-memory map?): every page of LUO metadata that
  ///   was read (blob, `luo_ser`, session region or blocks, file arrays or
  ///   blocks, FLB page) and every file's `data` address must be preserved
  ///   (`DecodeError/Kind/missing`): the next kernel treats pages that
  ///   are not as free memory.
  /// - With `memory` as well, memfd files (`memfd-v1`, `memfd-v2`,
  ///   `memfd-v2;vmalloc-v1`) are decoded; their problems are reported, and
  ///   their state page, vmalloc chunks, folio array and folios must be
  ///   preserved.
  public func crossCheck(
    isPreserved: ((PhysAddr) -> Bool)? = nil, memory: (any PhysicalMemory)? = nil,
    path: DecodePath = DecodePath.root.appending(LUO.subnodeName)
  ) -> [DecodeError] {
    var out: [DecodeError] = []
    let sessionsPath = path.appending("sessions")
    let sessions = state.sessions

    // Unique names.
    var firstByName: [String: Int] = [:]
    for (i, s) in sessions.enumerated() {
      if let first = firstByName[s.name] {
        out.append(
          DecodeError(
            .duplicate, "session name '\(s.name)' is also used by sessions[\(first)]",
            path: sessionsPath.index(i), address: entryAddress(session: i)))
      } else {
        firstByName[s.name] = i
      }
    }

    // Unique tokens per session.
    for (i, s) in sessions.enumerated() {
      var firstByToken: [UInt64: Int] = [:]
      for (j, f) in s.files.enumerated() {
        if let first = firstByToken[f.token] {
          out.append(
            DecodeError(
              .duplicate, "token \(f.token) of session '\(s.name)' is also used by files[\(first)]",
              path: sessionsPath.index(i).appending("files", index: j),
              address: entryAddress(session: i, file: j).flatMap { $0.advanced(by: 56) }))
        } else {
          firstByToken[f.token] = j
        }
      }
    }

    // Declared counts.
    if let declared = layout.sessionHeaderCount, declared != UInt64(sessions.count) {
      out.append(
        DecodeError(
          .inconsistent, "the session header declares \(declared) sessions but \(sessions.count) were read",
          path: sessionsPath, address: layout.sessions))
    }
    for (i, set) in layout.fileSets.enumerated() where set.declaredCount != UInt64(set.readCount) {
      out.append(
        DecodeError(
          .inconsistent,
          "file_set_ser.count declares \(set.declaredCount) files but \(set.readCount) were read",
          path: sessionsPath.index(i).appending("files"),
          address: entryAddress(session: i).flatMap { $0.advanced(by: 72) }))
    }

    guard let isPreserved else { return out }
    let g = memory?.geometry ?? layout.geometryHint
    // Metadata pages.
    for region in layout.regions {
      for page in LUODecoded.pages(of: region.range, g) where !isPreserved(page) {
        out.append(
          DecodeError(
            .missing, "page \(page) of \(region.path) is not preserved; the next kernel would treat it as free memory",
            path: region.path, address: page))
      }
    }
    // File data.
    for (i, s) in sessions.enumerated() {
      for (j, f) in s.files.enumerated() where !f.data.isZero {
        let fpath = sessionsPath.index(i).appending("files", index: j)
        if !isPreserved(f.data) {
          out.append(
            DecodeError(
              .missing,
              "data \(f.data) of '\(f.compatible)' token \(f.token) is not preserved; the next kernel would treat it as free memory",
              path: fpath, address: f.data))
          continue
        }
        guard let memory, let version = MemfdVersion(compatible: f.compatible) else { continue }
        let memfd = Memfd.decodeReporting(from: memory, at: f.data, version: version, path: fpath.appending("memfd"))
        out += memfd.allProblems
        guard let decoded = memfd.value else { continue }
        out += LUODecoded.unpreserved(memfd: decoded, isPreserved: isPreserved, path: fpath.appending("memfd"))
      }
    }
    return out
  }

  /// The pages of a memfd (state, chunks, folio array, folios) that are not preserved.
  static func unpreserved(memfd m: MemfdDecoded, isPreserved: (PhysAddr) -> Bool, path: DecodePath)
    -> [DecodeError]
  {
    var out: [DecodeError] = []
    let g = m.folioArray.geometry
    func check(_ a: PhysAddr, _ what: String, _ p: DecodePath) {
      if !isPreserved(a) {
        out.append(
          DecodeError(
            .missing, "\(what) page \(a) is not preserved; the next kernel would treat it as free memory",
            path: p, address: a))
      }
    }
    for page in pages(of: PhysRange(start: m.address, size: UInt64(m.version.serSize)), g) {
      check(page, "memfd_luo_ser", path)
    }
    for (i, c) in m.folioArray.chunks.enumerated() {
      check(c, "vmalloc chunk", path.appending("folios").appending("chunk", index: i))
    }
    for (i, r) in m.folioArray.runs.enumerated() {
      check(r, "folio array", path.appending("folios").appending("run", index: i))
    }
    for (i, f) in m.state.folios.enumerated() where !f.isEmpty {
      if let a = f.address(g) { check(a, "folio", path.appending("folios", index: i)) }
    }
    return out
  }

  /// The page-aligned addresses of every page `range` touches.
  static func pages(of range: PhysRange, _ g: PageGeometry) -> [PhysAddr] {
    guard range.size > 0 else { return [] }
    let first = range.start.pfn(g)
    let last = (range.end - 1) >> UInt64(g.pageShift)
    return (first...last).compactMap { PhysAddr.ofPage($0, g) }
  }

  /// The address of session `i`'s entry, or of its file `j`'s entry.
  func entryAddress(session i: Int, file j: Int? = nil) -> PhysAddr? {
    guard let j else {
      return i < layout.sessionEntries.count ? layout.sessionEntries[i] : nil
    }
    guard i < layout.fileSets.count, j < layout.fileSets[i].entries.count else { return nil }
    return layout.fileSets[i].entries[j]
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The memfd file handler's format (`memfd-v1`, `memfd-v2`,
/// `memfd-v2;vmalloc-v1`): `struct memfd_luo_ser` and its folio array.
///
/// | off v1 | off v2 | size | field |
/// |---|---|---|---|
/// | 0 | 0 | 8 | `pos` |
/// | 8 | 8 | 8 | `size` |
/// | – | 16 | 4 | `seals` |
/// | – | 20 | 4 | `flags` (must be 0) |
/// | 16 | 24 | 8 | `nr_folios` |
/// | 24 | 32 | 16 | `folios`: ``VMallocDescriptor`` of the folio array |
public enum Memfd {
  /// The size of `struct memfd_luo_folio_ser`.
  public static let folioEntrySize = 16

  /// Decodes the memfd state at `address` (the file's `data` field).
  ///
  /// Checks: the struct is captured; memfd-v2 `flags` is 0 and `seals` has
  /// only known bits; an empty file (`nr_folios` 0) has an all-zero
  /// descriptor and a non-empty one has a chain; the vmalloc area (checked
  /// by ``VMalloc/decode(_:from:path:at:)``) holds `nr_folios` entries.
  public static func decode(
    from memory: any PhysicalMemory, at address: PhysAddr, version: MemfdVersion,
    path: DecodePath = .root
  ) throws(DecodeError) -> MemfdDecoded {
    var problems = DecodeProblems(strict: true)
    return try decode(memory, address, version, path, &problems)
  }

  /// Like ``decode(from:at:version:path:)`` but collects problems and
  /// returns what could be read (`nil` when the struct itself is unreadable).
  public static func decodeReporting(
    from memory: any PhysicalMemory, at address: PhysAddr, version: MemfdVersion,
    path: DecodePath = .root
  ) -> DecodeOutcome<MemfdDecoded> {
    .collect { (problems) throws(DecodeError) in try decode(memory, address, version, path, &problems) }
  }

  static func decode(
    _ memory: any PhysicalMemory, _ address: PhysAddr, _ version: MemfdVersion,
    _ path: DecodePath, _ problems: inout DecodeProblems
  ) throws(DecodeError) -> MemfdDecoded {
    let g = memory.geometry
    var r = try memory.reader(at: address, count: version.serSize, path: path)
    if version.featureHeaderSize > 0 {
      try FeatureHeader.check(&r, known: MemfdVersion.knownFeatures, what: "memfd", &problems)
    }
    let pos = try r.u64()
    let size = try r.u64()
    var seals: UInt32 = 0
    var flags: UInt32 = 0
    if version.hasSeals {
      seals = try r.u32()
      flags = try r.u32()
      if flags != 0 {
        try problems.report(
          r.error(
            .unsupported, "flags is 0x\(String(flags, radix: 16)); \(version) requires 0",
            at: version.featureHeaderSize + 20))
      }
      if seals & ~MemfdState.allSeals != 0 {
        try problems.report(
          r.error(
            .unsupported,
            "seals 0x\(String(seals, radix: 16)) has bits outside MEMFD_LUO_ALL_SEALS (0x3f)",
            at: version.featureHeaderSize + 16))
      }
    }
    let nrOffset = r.offset
    let nr = try r.u64()
    let descriptorOffset = r.offset
    let descriptor = try VMallocDescriptor(reading: &r)
    let descriptorAddress = address.advanced(by: UInt64(descriptorOffset))
    let folioPath = path.appending("folios")
    let empty = VMallocArea(descriptor: descriptor, chunks: [], runs: [], geometry: g)
    func result(_ folios: [MemfdFolio], _ area: VMallocArea) -> MemfdDecoded {
      MemfdDecoded(
        version: version, address: address,
        state: MemfdState(pos: pos, size: size, seals: seals, flags: flags, folios: folios),
        folioArray: area)
    }
    if nr == 0 {
      if !descriptor.isEmpty {
        try problems.report(
          r.error(.inconsistent, "nr_folios is 0 but the folio descriptor is not empty", at: descriptorOffset))
      }
      return result([], empty)
    }
    guard !descriptor.first.isZero else {
      try problems.report(
        r.error(.missing, "nr_folios is \(nr) but the folio array has no chunk", at: descriptorOffset))
      return result([], empty)
    }
    var sub = DecodeProblems(strict: problems.strict)
    let area = try VMalloc.walk(descriptor, memory, folioPath, descriptorAddress, &sub)
    try problems.report(contentsOf: sub.list)
    let (need, overflow) = nr.multipliedReportingOverflow(by: UInt64(folioEntrySize))
    var count = nr
    if overflow || need > area.byteCount {
      try problems.report(
        r.error(
          .truncated,
          "nr_folios \(nr) needs \(overflow ? "more than 2^64" : String(need)) bytes; the folio array holds \(area.byteCount)",
          at: nrOffset))
      count = area.byteCount / UInt64(folioEntrySize)
    }
    let raw = try VMalloc.readData(area, count: Int(count) * folioEntrySize, from: memory, path: folioPath)
    var folios: [MemfdFolio] = []
    folios.reserveCapacity(Int(count))
    raw.withUnsafeBytes { buffer in
      let words = _ImageWords(buffer, order: g.byteOrder)
      for i in 0..<Int(count) {
        let w = words.u64(at: i &* 16)
        let x = words.u64(at: i &* 16 &+ 8)
        folios.append(MemfdFolio(packed: w, index: x, order: g.byteOrder))
      }
    }
    // Each file page has one folio: a repeated index, or one past the end
    // of the file, is what the next kernel cannot place.
    let pagesInFile = (size >> UInt64(g.pageShift)) + (size & g.pageMask == 0 ? 0 : 1)
    var firstAt: [UInt64: Int] = [:]
    for (i, f) in folios.enumerated() where !f.isEmpty {
      let p = folioPath.index(i)
      if f.index >= pagesInFile {
        try problems.report(
          DecodeError(
            .outOfRange, "folio index \(f.index) is at or past the file's end (\(pagesInFile) pages)", path: p,
            address: f.address(g)))
      }
      if let first = firstAt.updateValue(i, forKey: f.index) {
        try problems.report(
          DecodeError(
            .duplicate, "folio index \(f.index) is also used by \(folioPath.index(first))", path: p,
            address: f.address(g)))
      }
    }
    return result(folios, area)
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The `vmalloc-v1` codec: `struct kho_vmalloc` and its chunk chain.
///
/// A chunk is one page: `next` (u64 physical address, 0 = last chunk), then
/// up to `(pageSize - 8) / 8` (511 with 4 KiB pages) addresses of
/// `2^order`-page runs in virtual-address order; a 0 address ends the chunk
/// early. The pages the runs cover must add up to `total_pages`.
public enum VMalloc {
  /// Run addresses per chunk: `(pageSize - 8) / 8`.
  public static func entriesPerChunk(_ g: PageGeometry) -> Int { (g.pageSize - 8) / 8 }

  /// Follows the chunk chain of `descriptor` and lists the runs.
  ///
  /// Checks (each a located `DecodeError`): flags are known; order is at
  /// most ``VMallocDescriptor/maxOrder``; an empty descriptor (`first` 0)
  /// has `total_pages` 0; chunks are page aligned, captured and not
  /// revisited (`DecodeError/Kind/cycle`); runs are aligned to their
  /// order; the pages add up to exactly `total_pages`. The walk reads at
  /// most `ceil(total_pages / 2^order / 511) + 1` chunks (the writer adds an
  /// empty chunk after a full one), so work is bounded by the descriptor.
  public static func decode(
    _ descriptor: VMallocDescriptor, from memory: any PhysicalMemory, path: DecodePath = .root,
    at address: PhysAddr? = nil
  ) throws(DecodeError) -> VMallocArea {
    var problems = DecodeProblems(strict: true)
    return try walk(descriptor, memory, path, address, &problems)
  }

  /// Like ``decode(_:from:path:at:)`` but records problems and returns the
  /// runs it could read.
  public static func decodeReporting(
    _ descriptor: VMallocDescriptor, from memory: any PhysicalMemory, path: DecodePath = .root,
    at address: PhysAddr? = nil
  ) -> DecodeOutcome<VMallocArea> {
    .collect { (problems) throws(DecodeError) in try walk(descriptor, memory, path, address, &problems) }
  }

  static func walk(
    _ d: VMallocDescriptor, _ memory: any PhysicalMemory, _ path: DecodePath,
    _ descriptorAddress: PhysAddr?, _ problems: inout DecodeProblems
  ) throws(DecodeError) -> VMallocArea {
    let g = memory.geometry
    var chunks: [PhysAddr] = []
    var runs: [PhysAddr] = []
    func located(_ kind: DecodeError.Kind, _ message: String, _ at: PhysAddr?, _ p: DecodePath? = nil)
      -> DecodeError
    {
      DecodeError(kind, message, path: p ?? path, address: at)
    }
    if d.flags & ~VMallocDescriptor.knownFlags != 0 {
      try problems.report(
        located(
          .unsupported,
          "flags 0x\(String(d.flags, radix: 16)) has bits vmalloc-v1 does not define",
          descriptorAddress?.advanced(by: 12)))
    }
    guard Int(d.order) <= VMallocDescriptor.maxOrder else {
      try problems.report(
        located(
          .outOfRange, "order \(d.order) is above \(VMallocDescriptor.maxOrder)",
          descriptorAddress?.advanced(by: 14)))
      return VMallocArea(descriptor: d, chunks: [], runs: [], geometry: g)
    }
    if d.first.isZero {
      if d.totalPages != 0 {
        try problems.report(
          located(
            .inconsistent, "total_pages is \(d.totalPages) but there is no chunk (first = 0)",
            descriptorAddress))
      }
      return VMallocArea(descriptor: d, chunks: [], runs: [], geometry: g)
    }
    let perChunk = entriesPerChunk(g)
    let pagesPerRun = UInt64(1) << UInt64(d.order)
    let expectedRuns = (UInt64(d.totalPages) + pagesPerRun - 1) / pagesPerRun
    let maxChunks = Int(expectedRuns / UInt64(perChunk)) + 1
    var pages: UInt64 = 0
    var seen = Set<UInt64>()
    var address = d.first

    chain: while !address.isZero {
      let i = chunks.count
      let cpath = path.appending("chunk", index: i)
      guard seen.insert(address.rawValue).inserted else {
        try problems.report(
          located(.cycle, "chunk chain returns to \(address)", address, cpath))
        break chain
      }
      guard i < maxChunks else {
        try problems.report(
          located(
            .limitExceeded,
            "more than \(maxChunks) chunks for \(d.totalPages) pages of order \(d.order)",
            address, cpath))
        break chain
      }
      guard address.isPageAligned(g) else {
        try problems.report(
          located(.misaligned, "chunk address \(address) is not page aligned", address, cpath))
        break chain
      }
      let page: Bytes
      do {
        page = try memory.bytes(at: address, count: g.pageSize)
      } catch {
        var e = error
        e.path = cpath
        try problems.report(e)
        break chain
      }
      chunks.append(address)
      var next: UInt64 = 0
      var stop: DecodeError?
      page.withWords(g.byteOrder) { words in
        next = words.u64(at: 0)
        for slot in 0..<perChunk {
          let phys = words.u64(at: 8 + slot * 8)
          if phys == 0 { break }
          let run = PhysAddr(phys)
          if !run.isAligned(order: Int(d.order), g) {
            stop = located(
              .misaligned, "run \(run) is not aligned to order \(d.order)",
              address.advanced(by: UInt64(8 + slot * 8)), cpath.appending("phys", index: slot))
            return
          }
          if pages + pagesPerRun > UInt64(d.totalPages) {
            stop = located(
              .inconsistent,
              "runs cover more than total_pages (\(d.totalPages)) pages",
              address.advanced(by: UInt64(8 + slot * 8)), cpath.appending("phys", index: slot))
            return
          }
          runs.append(run)
          pages += pagesPerRun
        }
      }
      if let stop {
        try problems.report(stop)
        break chain
      }
      address = PhysAddr(next)
    }
    if pages != UInt64(d.totalPages), problems.list.isEmpty {
      try problems.report(
        located(
          .inconsistent, "runs cover \(pages) pages but total_pages is \(d.totalPages)",
          descriptorAddress?.advanced(by: 8)))
    }
    return VMallocArea(descriptor: d, chunks: chunks, runs: runs, geometry: g)
  }

  /// Reads the first `count` bytes of the area's data.
  public static func readData(
    _ area: VMallocArea, count: Int, from memory: any PhysicalMemory, path: DecodePath = .root
  ) throws(DecodeError) -> [UInt8] {
    guard count >= 0, UInt64(count) <= area.byteCount else {
      throw DecodeError(
        .truncated, "need \(count) bytes but the area holds \(area.byteCount)", path: path)
    }
    var out: [UInt8] = []
    // `count` is bounded by what the descriptor claims, not by what was
    // captured: reserve at most 64 MiB up front and let reads grow the rest.
    out.reserveCapacity(Swift.min(count, 1 << 26))
    let runSize = Int(clamping: area.runSize)
    for (i, run) in area.runs.enumerated() where out.count < count {
      let n = Swift.min(runSize, count - out.count)
      let b = try memory.bytes(at: run, count: n, path: path.appending("run", index: i))
      b.withUnsafeBytes { out.appendBytes($0) }
    }
    return out
  }
}

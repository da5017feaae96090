// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A memfd's bytes read back from memory.
public struct MemfdContents: Sendable {
  /// The file's bytes (`size` of them); holes and missing pages are zero.
  public var data: [UInt8]
  /// True when no folio-order lookup was given and every folio was taken
  /// to be one page (order 0). A larger folio then shows only its first page.
  public var assumedOrderZero: Bool
  /// What could not be read (lenient mode) or looked wrong, each located.
  public var problems: [DecodeError]

  public init(data: [UInt8], assumedOrderZero: Bool, problems: [DecodeError]) {
    self.data = data
    self.assumedOrderZero = assumedOrderZero
    self.problems = problems
  }
}

extension Memfd {
  /// What to do when a folio's pages are not in captured memory.
  public enum MissingPages: Sendable {
    /// Throw the memory's error.
    case fail
    /// Leave the bytes zero and record a problem.
    case zeroFill
  }

  /// The largest file ``readContents(_:from:folioOrder:missingPages:limit:path:)`` reads by default (4 GiB).
  public static let defaultContentsLimit: UInt64 = 1 << 32

  /// Reads the file's contents from the folio pages.
  ///
  /// Each non-empty folio covers `2^order` pages from `index * pageSize`.
  /// The order is not in the memfd format; it comes from the KHO
  /// preserved-memory map. Pass `folioOrder` (physical address → order, or
  /// `nil` when the address is not preserved) to use it; without it every
  /// folio is taken as order 0 and ``MemfdContents/assumedOrderZero`` says
  /// so. A folio the lookup does not know is read as order 0 and reported.
  ///
  /// - Throws: `DecodeError/Kind/limitExceeded` when `size` is over
  ///   `limit`; with `.fail`, the memory's error for an uncaptured folio.
  public static func readContents(
    _ decoded: MemfdDecoded, from memory: any PhysicalMemory,
    folioOrder: ((PhysAddr) -> Int?)? = nil, missingPages: MissingPages = .fail,
    limit: UInt64 = defaultContentsLimit, path: DecodePath = .root
  ) throws(DecodeError) -> MemfdContents {
    let size = decoded.state.size
    guard size <= limit, size <= UInt64(Int.max) else {
      throw DecodeError(
        .limitExceeded, "file size \(size) is over the \(limit)-byte limit", path: path,
        address: decoded.address.advanced(by: 8))
    }
    var data = [UInt8](repeating: 0, count: Int(size))
    let problems = try forEachContentsChunk(
      decoded, from: memory, folioOrder: folioOrder, missingPages: missingPages, path: path
    ) {
      offset, bytes in
      let dst = Int(offset)
      bytes.withUnsafeBytes { src in
        data.withUnsafeMutableBytes { out in
          UnsafeMutableRawBufferPointer(rebasing: out[dst..<dst + src.count]).copyMemory(from: src)
        }
      }
    }
    return MemfdContents(data: data, assumedOrderZero: folioOrder == nil, problems: problems)
  }

  /// The most bytes one call of the sink gets (1 MiB).
  public static let contentsChunk = 1 << 20

  /// Streams the file's contents: calls `sink(offset, bytes)` for every
  /// captured run of folio data, in at most ``contentsChunk``-byte pieces,
  /// and never for holes, so a caller that writes at `offset` into a file
  /// leaves holes sparse and holds one chunk at a time. Same rules and
  /// problems as ``readContents(_:from:folioOrder:missingPages:limit:path:)``
  /// without its size limit. Returns the problems (lenient mode).
  public static func forEachContentsChunk(
    _ decoded: MemfdDecoded, from memory: any PhysicalMemory, folioOrder: ((PhysAddr) -> Int?)? = nil,
    missingPages: MissingPages = .fail, path: DecodePath = .root,
    _ sink: (UInt64, Bytes) throws(DecodeError) -> Void
  ) throws(DecodeError) -> [DecodeError] {
    let g = memory.geometry
    let size = decoded.state.size
    var problems: [DecodeError] = []
    for (i, f) in decoded.state.folios.enumerated() where !f.isEmpty {
      let fpath = path.appending("folios", index: i)
      guard let address = f.address(g) else { continue }
      var order = 0
      if let folioOrder {
        if let o = folioOrder(address) {
          order = o
        } else {
          problems.append(
            DecodeError(
              .missing, "folio at \(address) is not in the preserved-memory map; read as one page",
              path: fpath, address: address))
        }
      }
      guard order >= 0, order <= VMallocDescriptor.maxOrder, address.isAligned(order: order, g) else {
        problems.append(
          DecodeError(
            .misaligned, "folio at \(address) of order \(order) is not aligned to its size",
            path: fpath, address: address))
        continue
      }
      let (start, o1) = f.index.multipliedReportingOverflow(by: g.pageSize64)
      if o1 || start >= size {
        problems.append(
          DecodeError(
            .outOfRange, "folio index \(f.index) lies past the end of the \(size)-byte file",
            path: fpath, address: address))
        continue
      }
      let length = Swift.min(g.pageSize64 << UInt64(order), size - start)
      var done: UInt64 = 0
      while done < length {
        let n = Int(Swift.min(UInt64(contentsChunk), length - done))
        guard let at = address.advanced(by: done) else { break }
        do {
          let bytes = try memory.bytes(at: at, count: n, path: fpath)
          try sink(start + done, bytes)
        } catch {
          if missingPages == .fail { throw error }
          problems.append(error)
          break
        }
        done += UInt64(n)
      }
    }
    return problems
  }
}

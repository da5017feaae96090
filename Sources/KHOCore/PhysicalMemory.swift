// SPDX-License-Identifier: Apache-2.0
/// Captured physical memory of the machine that wrote a handover.
///
/// Handover data is a graph of pages linked by physical addresses. Decoders
/// follow those links through this protocol, which answers "these bytes at
/// this address" or a typed error, never a trap. An in-memory
/// ``PhysicalImage``, an ELF core file, a compact bundle and a copied
/// debugfs directory all conform.
public protocol PhysicalMemory: AnyObject {
  /// The page size and byte order of the kernel that wrote the memory.
  var geometry: PageGeometry { get }

  /// The captured ranges, sorted by address, not overlapping.
  var segments: [PhysRange] { get }

  /// Returns `count` bytes starting at `address`.
  ///
  /// - Throws: ``DecodeError`` of kind ``DecodeError/Kind/notCaptured`` when
  ///   `address` is in no captured range, ``DecodeError/Kind/crossesHole``
  ///   when the range runs past captured memory.
  func bytes(at address: PhysAddr, count: Int) throws(DecodeError) -> Bytes

  /// Streams the captured bytes that may be nonzero, in address order.
  ///
  /// `body` sees pieces of at most `chunk` bytes, each valid only during
  /// the call, and returns `false` to stop. Sources backed by a file skip
  /// its holes and read through one reused buffer, so a scan of a huge core
  /// neither reads its holes nor keeps what it read resident. The default
  /// reads every captured byte through ``bytes(at:count:)``.
  func scanData(chunk: Int, _ body: (PhysAddr, RawSpan) -> Bool) throws(DecodeError)

  /// The captured ranges that may hold nonzero bytes: ``segments`` less
  /// the holes of a sparse backing file (default: ``segments``).
  var dataSegments: [PhysRange] { get }

  /// A number that changes whenever captured bytes may have changed.
  ///
  /// Views that remember what they read (``Bytes`` of pages, child links)
  /// compare it between queries and start again when it moved. Memory that
  /// never changes after it is made keeps the default, 0; a wrapper reports
  /// what it wraps.
  var generation: UInt64 { get }
}

extension PhysicalMemory {
  public func scanData(chunk: Int, _ body: (PhysAddr, RawSpan) -> Bool) throws(DecodeError) {
    try scanDataByReading(chunk: chunk, body)
  }

  /// The default ``scanData(chunk:_:)``: every captured byte, in pieces
  /// read through ``bytes(at:count:)``.
  public func scanDataByReading(chunk: Int, _ body: (PhysAddr, RawSpan) -> Bool) throws(DecodeError) {
    let step = UInt64(Swift.max(chunk, 1))
    for seg in segments {
      var a = seg.start.rawValue
      while a < seg.end {
        let n = Swift.min(step, seg.end - a)
        let piece = try bytes(at: PhysAddr(a), count: Int(n))
        guard piece.withRawSpan({ body(PhysAddr(a), $0) }) else { return }
        a += n
      }
    }
  }

  public var dataSegments: [PhysRange] { segments }

  public var generation: UInt64 { 0 }

  /// Returns the bytes, with any error reported at `path`.
  public func bytes(at address: PhysAddr, count: Int, path: DecodePath) throws(DecodeError) -> Bytes {
    do { return try bytes(at: address, count: count) } catch { throw error.at(path) }
  }

  /// A reader over `count` bytes at `address`, in the memory's byte order.
  public func reader(at address: PhysAddr, count: Int, path: DecodePath) throws(DecodeError) -> ByteReader {
    let b = try bytes(at: address, count: count, path: path)
    return ByteReader(b, order: geometry.byteOrder, path: path, base: address)
  }

  /// A reader over the one page at `address`, which must be page aligned.
  public func page(at address: PhysAddr, path: DecodePath) throws(DecodeError) -> ByteReader {
    guard address.isPageAligned(geometry) else {
      throw DecodeError(
        .misaligned, "expected a page-aligned address, got \(address)", path: path,
        address: address)
    }
    return try reader(at: address, count: geometry.pageSize, path: path)
  }

  /// Reads one u64 in the memory's byte order.
  public func u64(at address: PhysAddr, path: DecodePath = .root) throws(DecodeError) -> UInt64 {
    let r = try reader(at: address, count: 8, path: path)
    return try r.integer(at: 0)
  }

  /// Whether every byte of `range` is captured.
  public func isCaptured(_ range: PhysRange) -> Bool {
    SegmentIndex.covers(segments, range)
  }

  /// The total number of captured bytes.
  public var capturedBytes: UInt64 {
    segments.reduce(0) { $0 &+ $1.size }
  }
}

/// Binary search over sorted, non-overlapping segments.
public enum SegmentIndex {
  /// The index of the segment containing `address`, if any. O(log n).
  public static func find(_ segments: [PhysRange], _ address: PhysAddr) -> Int? {
    let i = firstEnding(after: address, in: segments)
    guard i < segments.count, segments[i].contains(address) else { return nil }
    return i
  }

  /// The index of the first segment that ends after `address` (that is, the
  /// one containing it or the next one above it); `segments.count` if none.
  public static func firstEnding(after address: PhysAddr, in segments: [PhysRange]) -> Int {
    var lo = 0
    var hi = segments.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if segments[mid].end <= address.rawValue { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  /// Whether `range` lies within captured segments (adjacent ones join).
  public static func covers(_ segments: [PhysRange], _ range: PhysRange) -> Bool {
    if range.size == 0 { return true }
    guard var i = find(segments, range.start) else { return false }
    var reached = segments[i].end
    while reached < range.end {
      i += 1
      guard i < segments.count, segments[i].start.rawValue == reached else { return false }
      reached = segments[i].end
    }
    return true
  }

  /// The error for a read of `count` bytes at `address` that `covers` refused.
  public static func missError(_ segments: [PhysRange], _ address: PhysAddr, _ count: Int) -> DecodeError {
    if find(segments, address) == nil {
      return DecodeError(
        .notCaptured, "address \(address) is not in captured memory", address: address)
    }
    return DecodeError(
      .crossesHole, "\(count) bytes at \(address) run past captured memory", address: address)
  }
}

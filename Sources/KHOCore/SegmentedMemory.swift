// SPDX-License-Identifier: Apache-2.0
/// Physical memory made of byte ranges at given addresses.
///
/// Used where captured memory is not page-shaped: a DTB whose address is
/// known, blobs copied out of debugfs and placed at the addresses the root
/// FDT gives them. Reads inside one range are zero-copy.
public final class SegmentedMemory: PhysicalMemory {
  public let geometry: PageGeometry
  public let segments: [PhysRange]
  private let data: [Bytes]

  /// Creates memory from `(address, bytes)` pieces; overlapping pieces are
  /// an error, adjacent ones stay separate segments.
  public init(geometry: PageGeometry, pieces: [(PhysAddr, Bytes)]) throws(DecodeError) {
    self.geometry = geometry
    let sorted = pieces.filter { $0.1.count > 0 }.sorted { $0.0 < $1.0 }
    var ranges: [PhysRange] = []
    for (a, b) in sorted {
      let r = PhysRange(start: a, size: UInt64(b.count))
      guard a.advanced(by: UInt64(b.count)) != nil else {
        throw DecodeError(.outOfRange, "\(b.count) bytes at \(a) pass the top of memory", address: a)
      }
      if let last = ranges.last, last.overlaps(r) {
        throw DecodeError(.inconsistent, "captured ranges \(last) and \(r) overlap", address: a)
      }
      ranges.append(r)
    }
    self.segments = ranges
    self.data = sorted.map(\.1)
  }

  public func bytes(at address: PhysAddr, count: Int) throws(DecodeError) -> Bytes {
    guard count >= 0 else {
      throw DecodeError(.outOfRange, "negative read length \(count)", address: address)
    }
    guard let i = SegmentIndex.find(segments, address) else {
      throw DecodeError(.notCaptured, "address \(address) is not in captured memory", address: address)
    }
    let off = Int(address.rawValue - segments[i].start.rawValue)
    if let b = data[i].extracting(off, count: count) { return b }
    guard isCaptured(PhysRange(start: address, size: UInt64(count))) else {
      throw SegmentIndex.missError(segments, address, count)
    }
    var out: [UInt8] = []
    out.reserveCapacity(count)
    var j = i
    var skip = off
    while out.count < count, j < segments.count {
      let n = Swift.min(data[j].count - skip, count - out.count)
      data[j].extracting(skip, count: n)?.withUnsafeBytes { out.appendBytes($0) }
      skip = 0
      j += 1
    }
    return Bytes(out)
  }
}

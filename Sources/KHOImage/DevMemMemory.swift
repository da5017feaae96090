// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Physical memory read from a file whose offsets are physical addresses
/// (`/dev/mem`, or a raw dump of memory from address 0).
///
/// Which ranges are RAM is not in the file; the caller lists them (on a
/// live host, the `System RAM` lines of /proc/iomem).
public final class DevMemMemory: PhysicalMemory {
  public let geometry: PageGeometry
  public let segments: [PhysRange]
  private let file: _PreadFile

  public init(path: String, ranges: [PhysRange], geometry: PageGeometry = .x86_64) throws(DecodeError) {
    self.file = try _PreadFile(path: path)
    self.geometry = geometry
    self.segments = ranges.sorted { $0.start < $1.start }
  }

  public func bytes(at address: PhysAddr, count: Int) throws(DecodeError) -> Bytes {
    guard count >= 0, isCaptured(PhysRange(start: address, size: UInt64(count))) else {
      throw SegmentIndex.missError(segments, address, count)
    }
    return try file.read(offset: address.rawValue, count: count)
  }

  /// The `System RAM` ranges of an /proc/iomem text.
  public static func systemRAM(iomem text: String) -> [PhysRange] {
    text.split(separator: "\n").compactMap { line in
      guard !line.hasPrefix(" "), line.contains(": System RAM") else { return nil }
      let span = line.split(separator: ":")[0].trimmingCharacters(in: .whitespaces)
      let ends = span.split(separator: "-").compactMap { UInt64($0, radix: 16) }
      guard ends.count == 2, ends[1] >= ends[0] else { return nil }
      return PhysRange(start: PhysAddr(ends[0]), size: ends[1] - ends[0] + 1)
    }
  }
}

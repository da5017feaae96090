// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Wraps physical memory and remembers the page frame numbers read, so the
/// decoder can tell which pages hold a component's metadata.
final class _PageRecorder: PhysicalMemory {
  let base: any PhysicalMemory
  private(set) var pages: Set<UInt64> = []

  init(_ base: any PhysicalMemory) { self.base = base }

  var geometry: PageGeometry { base.geometry }
  var segments: [PhysRange] { base.segments }
  var generation: UInt64 { base.generation }

  func bytes(at address: PhysAddr, count: Int) throws(DecodeError) -> Bytes {
    let b = try base.bytes(at: address, count: count)
    record(PhysRange(start: address, size: UInt64(count)))
    return b
  }

  /// Records the pages `range` touches.
  func record(_ range: PhysRange) {
    guard range.size > 0 else { return }
    let shift = UInt64(geometry.pageShift)
    var p = range.start.rawValue >> shift
    let last = (range.end - 1) >> shift
    while p <= last {
      pages.insert(p)
      p += 1
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Wraps physical memory and remembers every page that was read.
///
/// `khodump pack` runs the walker over a recording memory and then writes
/// exactly the pages the walk touched: everything reachable from the root.
public final class RecordingMemory: PhysicalMemory {
  public let base: any PhysicalMemory
  /// Page frame numbers read so far.
  public private(set) var touchedPages: Set<UInt64> = []

  public init(_ base: any PhysicalMemory) { self.base = base }

  public var geometry: PageGeometry { base.geometry }
  public var segments: [PhysRange] { base.segments }
  public var generation: UInt64 { base.generation }

  public func bytes(at address: PhysAddr, count: Int) throws(DecodeError) -> Bytes {
    let b = try base.bytes(at: address, count: count)
    touch(PhysRange(start: address, size: UInt64(count)))
    return b
  }

  /// Marks the pages of `range` as needed (for data pages added on purpose).
  public func touch(_ range: PhysRange) {
    guard range.size > 0 else { return }
    let shift = UInt64(geometry.pageShift)
    let first = range.start.rawValue >> shift
    let last = (range.end - 1) >> shift
    var p = first
    while p <= last {
      touchedPages.insert(p)
      p += 1
    }
  }

  /// The touched pages as ranges, clipped to what `base` captured.
  public var touchedRanges: [PhysRange] {
    let shift = UInt64(geometry.pageShift)
    var out: [PhysRange] = []
    for pfn in touchedPages.sorted() {
      let page = PhysRange(start: PhysAddr(pfn << shift), size: geometry.pageSize64)
      for seg in clip(page) {
        if let last = out.last, last.end == seg.start.rawValue {
          out[out.count - 1].size += seg.size
        } else {
          out.append(seg)
        }
      }
    }
    return out
  }

  private func clip(_ r: PhysRange) -> [PhysRange] {
    let segs = base.segments
    var out: [PhysRange] = []
    var i = SegmentIndex.firstEnding(after: r.start, in: segs)
    while i < segs.count, segs[i].start.rawValue < r.end {
      let lo = Swift.max(segs[i].start.rawValue, r.start.rawValue)
      let hi = Swift.min(segs[i].end, r.end)
      if hi > lo { out.append(PhysRange(start: PhysAddr(lo), size: hi - lo)) }
      i += 1
    }
    return out
  }
}

// SPDX-License-Identifier: Apache-2.0
import Benchmark
import Foundation
import KHOCore
import KHOFormats
import KHOImage
import KHOInspect

// Validating a 4 TiB host's handover: a kho-v4 root whose radix map holds
// 2^28 preserved order-0 pages (a quarter of 2^30), 128 MiB of leaves,
// against streaming through the same bytes. KHO_BENCH_SHIFT=N shrinks the
// host to 2^N pages.

let hostShift = Int(ProcessInfo.processInfo.environment["KHO_BENCH_SHIFT"] ?? "") ?? 30

nonisolated(unsafe) let handover: (PhysicalImage, PhysAddr, Int) = {
  let g = PageGeometry.x86_64
  let image = PhysicalImage(geometry: g)
  var set = PreservedSet(geometry: g)
  // Every fourth page, in bulk ranges: 2^(shift-2) entries.
  var pfn: UInt64 = 0
  while pfn < (1 << UInt64(hostShift)) {
    _ = try? set.insert(pfn: pfn, order: 0)
    pfn += 4
  }
  var meta = PageAllocator(start: PhysAddr(UInt64(1) << UInt64(hostShift + 12)), pages: 1 << 22, geometry: g)
  guard let rootPage = try? meta.allocate(in: image),
    let map = try? RadixTree.encode(set, into: image, allocator: &meta),
    let dtb = try? KHORoot(version: .v4, memoryMap: map).encode()
  else { return (image, .zero, 0) }
  image.write(dtb, at: rootPage)
  return (image, rootPage, set.count)
}()

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .peakMemoryResident], timeUnits: .milliseconds, maxDuration: .seconds(30), maxIterations: 5)

  Benchmark("validate 4 TiB handover (2^28 set bits, 128 MiB map)") { b in
    let source = HandoverSource(capturing: handover.0, root: handover.1, rootBytes: nil, scratch: nil, path: "scale")
    b.startMeasurement()
    for _ in b.scaledIterations {
      let r = HandoverWalker(source: source).walk()
      blackHole(r.memoryMap?.entries)
    }
  }
  Benchmark("peer: stream-read the same pages (sum of u64 words)") { b in
    let pages = handover.0.pageNumbers
    b.startMeasurement()
    for _ in b.scaledIterations {
      var sum: UInt64 = 0
      for p in pages {
        guard let bytes = try? handover.0.bytes(at: PhysAddr(p << 12), count: 4096) else { continue }
        bytes.withUnsafeBytes { raw in
          for w in raw.bindMemory(to: UInt64.self) { sum &+= w }
        }
      }
      blackHole(sum)
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import Benchmark
import Foundation
import KHOCore
import KHOFormats
import KHOImage

// Writing and reading 1.27 M 32-byte entries through block-v1 chains
// (10,000 page-sized blocks of 127 entries) against memcpy of the same bytes.

let entrySize = 32
let count = 1_270_000
let layout = BlockLayout(entrySize: entrySize, geometry: .x86_64)
let entries: [UInt8] = (0..<count * entrySize).map { UInt8(truncatingIfNeeded: $0 &* 31) }
let arenaBase: PhysAddr = 0x1_0000_0000
let arenaPages = count / 127 + 2

/// The chain written once, as captured memory, for the read benchmarks.
nonisolated(unsafe) let written: (any PhysicalMemory, PhysAddr) = {
  var arena = [UInt8](repeating: 0, count: arenaPages * 4096)
  guard let layout, let w = try? BlockList.encode(entries, layout: layout, into: &arena, base: arenaBase),
    let mem = try? SegmentedMemory(geometry: .x86_64, pieces: [(arenaBase, Bytes(arena))])
  else { return (PhysicalImage(), .zero) }
  return (mem, w.head)
}()

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .throughput], timeUnits: .microseconds, maxDuration: .seconds(5), maxIterations: 200)

  Benchmark("block-v1 write 1.27M x 32 B (40.6 MB)") { b in
    guard let layout else { return }
    var arena = [UInt8](repeating: 0, count: arenaPages * 4096)
    b.startMeasurement()
    for _ in b.scaledIterations {
      blackHole(try? BlockList.encode(entries, layout: layout, into: &arena, base: arenaBase))
    }
  }
  Benchmark("block-v1 read 1.27M x 32 B (40.6 MB)") { b in
    guard let layout else { return }
    // The harness calls this closure once per sample: touch the buffer
    // before measuring, as the memcpy peer's destination is, so page faults
    // on fresh memory are not counted against the decoder.
    var buffer = [UInt8](repeating: 0, count: entries.count)
    buffer.removeAll(keepingCapacity: true)
    b.startMeasurement()
    for _ in b.scaledIterations {
      blackHole(try? BlockList.decode(from: written.0, head: written.1, layout: layout, into: &buffer))
    }
  }
  Benchmark("peer: memcpy 40.6 MB") { b in
    var dst = [UInt8](repeating: 0, count: entries.count)
    b.startMeasurement()
    for _ in b.scaledIterations {
      dst.withUnsafeMutableBytes { d in entries.withUnsafeBytes { s in d.copyMemory(from: s) } }
      blackHole(dst)
    }
  }
}

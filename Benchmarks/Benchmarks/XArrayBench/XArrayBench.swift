// SPDX-License-Identifier: Apache-2.0
import Benchmark
import CJudy
import Foundation
import KHOCore
import KHOFormats
import XArray

// The sparse store against its peers in the same run: JudyL (libjudy, the
// classic C sparse array) and Swift's Dictionary; and the zero-copy views
// of the preserved formats against the in-memory store. One iteration is
// one pass over N keys: divide the wall time by N for ns per operation.
// Workloads (as the xarray issue defines them): dense keys 0..<N; PFN-like
// keys (a random 25% of [0, 4N), inserted ascending); random 48-bit keys.
// N is 2^20 unless XARRAY_BENCH_N says otherwise. Every measurement stops
// before the structure is freed, for every peer alike.

struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

let n = ProcessInfo.processInfo.environment["XARRAY_BENCH_N"].flatMap { Int($0) } ?? 1 << 20

struct Workload: @unchecked Sendable {
  let name: String
  let keys: [UInt64]
  let shuffled: [UInt64]
}

nonisolated(unsafe) let workloads: [Workload] = {
  var rng = SplitMix(state: 42)
  let dense = (0..<UInt64(n)).map { $0 }
  var pfn: [UInt64] = []
  var c: UInt64 = 0
  while pfn.count < n {
    if rng.next() % 4 == 0 { pfn.append(c) }
    c += 1
  }
  let random = (0..<n).map { _ in rng.next() & 0xffff_ffff_ffff }
  return [
    Workload(name: "dense", keys: dense, shuffled: dense.shuffled(using: &rng)),
    Workload(name: "pfn", keys: pfn, shuffled: pfn.shuffled(using: &rng)),
    Workload(name: "random48", keys: random, shuffled: random.shuffled(using: &rng)),
  ]
}()

func buildXArray(_ keys: [UInt64]) -> XArray<UInt64> {
  var x = XArray<UInt64>()
  for k in keys { x[k] = k &+ 1 }
  return x
}

func buildJudy(_ keys: [UInt64]) -> UnsafeMutableRawPointer? {
  var j: UnsafeMutableRawPointer?
  for k in keys { JudyLIns(&j, Word_t(k), nil)?.pointee = UnsafeMutableRawPointer(bitPattern: UInt(k &+ 1)) }
  return j
}

/// Heap bytes per entry, times 10: the growth of glibc's heap over a build,
/// malloc's own overhead included, measured alike for every peer.
let bytesPerEntry = BenchmarkMetric.custom("B/entry x10", polarity: .prefersSmaller, useScalingFactor: false)
/// Bytes per entry, times 10, as the structure counts itself (XArray's
/// `memoryUsed`, `JudyLMemUsed`, which leaves malloc's overhead out).
let ownBytesPerEntry = BenchmarkMetric.custom(
  "own count B/entry x10", polarity: .prefersSmaller, useScalingFactor: false)

func heapInUse() -> Int { Int(bench_heap_in_use()) }

/// Bytes of preserved pages per entry, times 10.
let preservedBytesPerEntry = BenchmarkMetric.custom(
  "preserved B/entry x10", polarity: .prefersSmaller, useScalingFactor: false)

/// Records the preserved pages' bytes per entry of `image`, then times a
/// lookup of every key in `keys` through `view`.
func measureLookups<View: KHOXArrayReading>(
  _ b: Benchmark, _ view: View, in image: PhysicalImage, _ keys: [UInt64]
) {
  b.measurement(preservedBytesPerEntry, image.pageCount * image.geometry.pageSize * 10 / n)
  b.startMeasurement()
  var sum: UInt64 = 0
  for k in keys { sum &+= view.load(k) ?? 0 }
  b.stopMeasurement()
  blackHole(sum)
  blackHole(view)
}

/// XArray's build time over JudyL's, times 1000, from builds of the same
/// keys run back to back in one iteration. The machine's speed drifts by
/// tens of percent between benchmarks; within one iteration both peers
/// meet the same conditions.
let pairedInsertRatio = BenchmarkMetric.custom(
  "XArray/JudyL insert x1000", polarity: .prefersSmaller, useScalingFactor: false)

/// Nanoseconds that `body` takes.
@inline(never) func timed(_ body: () -> Void) -> UInt64 {
  let t = DispatchTime.now().uptimeNanoseconds
  body()
  return DispatchTime.now().uptimeNanoseconds &- t
}

enum Peer { case judy, xarray }

/// Builds of both peers in the order JudyL, XArray, XArray, JudyL (so that
/// neither always runs first), each structure freed before the next build;
/// the ratio of XArray's two builds to JudyL's two, times 1000.
func pairedInsert(_ keys: [UInt64]) -> Int {
  var judy: UInt64 = 0
  var xarray: UInt64 = 0
  for peer: Peer in [.judy, .xarray, .xarray, .judy] {
    switch peer {
    case .judy:
      var j: UnsafeMutableRawPointer?
      judy &+= timed { j = buildJudy(keys) }
      JudyLFreeArray(&j, nil)
    case .xarray:
      var x: XArray<UInt64>?
      xarray &+= timed { x = buildXArray(keys) }
      blackHole(x)
      x = nil
    }
  }
  return Int(xarray &* 1000 / Swift.max(judy, 1))
}

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock], timeUnits: .milliseconds, maxDuration: .seconds(3), maxIterations: 8)
  let withPreserved = Benchmark.Configuration(
    metrics: [.wallClock, preservedBytesPerEntry], timeUnits: .milliseconds, maxDuration: .seconds(3),
    maxIterations: 8)
  let withMemory = Benchmark.Configuration(
    metrics: [.wallClock, bytesPerEntry, ownBytesPerEntry], timeUnits: .milliseconds, maxDuration: .seconds(3),
    maxIterations: 8)

  for w in workloads {
    let label = "\(w.name) N=\(n)"

    // Insert: build from empty.
    Benchmark("\(label) insert: XArray", configuration: withMemory) { b in
      let heap = heapInUse()
      b.startMeasurement()
      let x = buildXArray(w.keys)
      b.stopMeasurement()
      b.measurement(bytesPerEntry, (heapInUse() - heap) * 10 / n)
      b.measurement(ownBytesPerEntry, x.memoryUsed * 10 / n)
      blackHole(x)
    }
    Benchmark("\(label) insert: JudyL", configuration: withMemory) { b in
      let heap = heapInUse()
      b.startMeasurement()
      var j = buildJudy(w.keys)
      b.stopMeasurement()
      b.measurement(bytesPerEntry, (heapInUse() - heap) * 10 / n)
      b.measurement(ownBytesPerEntry, Int(JudyLMemUsed(j)) * 10 / n)
      JudyLFreeArray(&j, nil)
    }
    Benchmark(
      "\(label) insert: XArray/JudyL paired",
      configuration: .init(
        metrics: [pairedInsertRatio], warmupIterations: 0, maxDuration: .seconds(120), maxIterations: 8)
    ) { b in
      b.measurement(pairedInsertRatio, pairedInsert(w.keys))
    }
    Benchmark("\(label) insert: Dictionary", configuration: withMemory) { b in
      let heap = heapInUse()
      b.startMeasurement()
      var d: [UInt64: UInt64] = [:]
      for k in w.keys { d[k] = k &+ 1 }
      b.stopMeasurement()
      b.measurement(bytesPerEntry, (heapInUse() - heap) * 10 / n)
      b.measurement(ownBytesPerEntry, (d.capacity * 16 + d.capacity / 8) * 10 / n)
      blackHole(d)
    }

    // Lookups in insertion order and shuffled; iteration.
    for (order, keys) in [("in-order", w.keys), ("shuffled", w.shuffled)] {
      Benchmark("\(label) lookup \(order): XArray") { b in
        let x = buildXArray(w.keys)
        b.startMeasurement()
        var sum: UInt64 = 0
        for k in keys { sum &+= x[k] ?? 0 }
        b.stopMeasurement()
        blackHole(sum)
        blackHole(x)
      }
      Benchmark("\(label) lookup \(order): JudyL") { b in
        var j = buildJudy(w.keys)
        b.startMeasurement()
        var sum: UInt64 = 0
        for k in keys {
          if let p = JudyLGet(j, Word_t(k), nil) { sum &+= UInt64(UInt(bitPattern: p.pointee)) }
        }
        b.stopMeasurement()
        blackHole(sum)
        JudyLFreeArray(&j, nil)
      }
      Benchmark("\(label) lookup \(order): Dictionary") { b in
        var d: [UInt64: UInt64] = [:]
        for k in w.keys { d[k] = k &+ 1 }
        b.startMeasurement()
        var sum: UInt64 = 0
        for k in keys { sum &+= d[k] ?? 0 }
        b.stopMeasurement()
        blackHole(sum)
        blackHole(d)
      }
    }
    Benchmark("\(label) iterate: XArray") { b in
      let x = buildXArray(w.keys)
      b.startMeasurement()
      var sum: UInt64 = 0
      for (k, v) in x { sum &+= k ^ v }
      b.stopMeasurement()
      blackHole(sum)
      blackHole(x)
    }
    Benchmark("\(label) iterate: JudyL") { b in
      var j = buildJudy(w.keys)
      b.startMeasurement()
      var sum: UInt64 = 0
      var idx: Word_t = 0
      var p = JudyLFirst(j, &idx, nil)
      while let q = p {
        sum &+= UInt64(idx) ^ UInt64(UInt(bitPattern: q.pointee))
        p = JudyLNext(j, &idx, nil)
      }
      b.stopMeasurement()
      blackHole(sum)
      JudyLFreeArray(&j, nil)
    }

    // Zero-copy views of the preserved forms. Random 48-bit keys would
    // take a leaf page each in v1, so only v2 (list leaves) reads them.
    if w.name != "random48" {
      Benchmark("\(label) view lookup shuffled: kho-xarray-v1", configuration: withPreserved) { b in
        let image = PhysicalImage()
        var alloc = PageAllocator(start: PhysAddr(0x1_0000_0000), pages: 1 << 24)
        guard let root = try? KHOXArrayV1.encode(buildXArray(w.keys), into: image, allocator: &alloc),
          let view = try? KHOXArrayV1View(memory: image, root: root)
        else { return }
        measureLookups(b, view, in: image, w.shuffled)
      }
    }
    // Both list layouts where lists are written (sparse keys); dense and
    // PFN-like subtrees stay trees, so the layout changes nothing there.
    let layouts: [KHOXArrayV2.ListLayout] = w.name == "random48" ? [.separate, .paired] : [.separate]
    for lists in layouts {
      let name = lists == .paired ? "kho-xarray-v2 paired lists" : "kho-xarray-v2"
      Benchmark("\(label) view lookup shuffled: \(name)", configuration: withPreserved) { b in
        let image = PhysicalImage()
        var alloc = PageAllocator(start: PhysAddr(0x1_0000_0000), pages: 1 << 24)
        guard
          let at = try? KHOXArrayV2.encode(buildXArray(w.keys), into: image, allocator: &alloc, lists: lists),
          let view = try? KHOXArrayV2View(memory: image, at: at)
        else { return }
        measureLookups(b, view, in: image, w.shuffled)
      }
    }
  }
}

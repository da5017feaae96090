// SPDX-License-Identifier: Apache-2.0
import Benchmark
import CJudy
import CRadixModel
import Foundation
import KHOCore
import KHOFormats

// A 1 TiB host (2^28 pages of 4 KiB) with 2^26 random order-0 pages
// preserved (25%), and separately 512 order-9 folios; the preserved-page
// radix tree against a plain Swift bitmap and Judy1 holding the same set.
// KHO_BENCH_SHIFT=N shrinks the host to 2^N pages for quick runs.

let hostShift = Int(ProcessInfo.processInfo.environment["KHO_BENCH_SHIFT"] ?? "") ?? 28
let hostPages = 1 << hostShift
let setPages = hostPages / 4

struct SplitMix {
  var s: UInt64
  mutating func next() -> UInt64 {
    s &+= 0x9e37_79b9_7f4a_7c15
    var z = s
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}

/// 2^26 distinct random pfns in [0, 2^28), in random order, and sorted.
let (randomPFNs, sortedPFNs): ([UInt64], [UInt64]) = {
  var seen = [UInt64](repeating: 0, count: hostPages / 64)
  var out: [UInt64] = []
  out.reserveCapacity(setPages)
  var rng = SplitMix(s: 42)
  while out.count < setPages {
    let p = rng.next() & UInt64(hostPages - 1)
    let (w, b) = (Int(p >> 6), p & 63)
    if seen[w] & (1 << b) == 0 {
      seen[w] |= 1 << b
      out.append(p)
    }
  }
  return (out, out.sorted())
}()

/// Probe pfns for lookups: half preserved, half random.
let probes: [UInt64] = {
  var rng = SplitMix(s: 7)
  return (0..<1_000_000).map { i in
    i & 1 == 0 ? randomPFNs[Int(rng.next() % UInt64(setPages))] : rng.next() & UInt64(hostPages - 1)
  }
}()

let base = PhysAddr(UInt64(hostPages) << 12)

func buildSet(_ pfns: [UInt64], order: Int = 0) -> PreservedSet {
  var set = PreservedSet()
  for p in pfns { _ = try? set.insert(pfn: p, order: order) }
  return set
}

let randomSet = buildSet(randomPFNs)
nonisolated(unsafe) let encoded: (PhysicalImage, PhysAddr) = {
  let image = PhysicalImage()
  var alloc = PageAllocator(start: base, pages: 1 << 20)
  let root = (try? RadixTree.encode(randomSet, into: image, allocator: &alloc)) ?? .zero
  return (image, root)
}()
/// Mixed folios: 2^(hostShift - 10) entries, each of a random order 0...9
/// at a random frame aligned to it; probes half inside a folio, half random.
let mixedEntries: [(pfn: UInt64, order: Int)] = {
  var rng = SplitMix(s: 99)
  return (0..<(hostPages >> 10)).map { _ in
    let order = Int(rng.next() % 10)
    return (rng.next() & UInt64(hostPages - 1) & ~(UInt64(1 << order) - 1), order)
  }
}()
let mixedProbes: [UInt64] = {
  var rng = SplitMix(s: 11)
  return (0..<1_000_000).map { i in
    let e = mixedEntries[Int(rng.next() % UInt64(mixedEntries.count))]
    return i & 1 == 0 ? e.pfn + rng.next() % (1 << UInt64(e.order)) : rng.next() & UInt64(hostPages - 1)
  }
}()
nonisolated(unsafe) let mixedEncoded: (PhysicalImage, PhysAddr) = {
  var set = PreservedSet()
  for e in mixedEntries { _ = try? set.insert(pfn: e.pfn, order: e.order) }
  let image = PhysicalImage()
  var alloc = PageAllocator(start: base, pages: 1 << 20)
  let root = (try? RadixTree.encode(set, into: image, allocator: &alloc)) ?? .zero
  return (image, root)
}()

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .peakMemoryResident], timeUnits: .milliseconds,
    maxDuration: .seconds(20), maxIterations: 5)

  // --- encode: preserve every page, one at a time (kernel-style) or in
  // bulk, then write the tree.
  for (label, pfns) in [("random", randomPFNs), ("ascending", sortedPFNs)] {
    Benchmark("radix encode 2^26 \(label) pages (bulk insert(pfns:) + encode)") { b in
      for _ in b.scaledIterations {
        var set = PreservedSet()
        _ = try? set.insert(pfns: pfns, order: 0)
        let image = PhysicalImage()
        var alloc = PageAllocator(start: base, pages: 1 << 20)
        blackHole(try? RadixTree.encode(set, into: image, allocator: &alloc))
      }
    }
    // The kernel's calling pattern: one folio per call, the answer used.
    Benchmark("preserve 2^26 \(label) pages one per call: PreservedSet.insert(pfn:order:)") { b in
      for _ in b.scaledIterations {
        var set = PreservedSet()
        var fresh = 0
        for p in pfns where (try? set.insert(pfn: p, order: 0)) == true { fresh &+= 1 }
        blackHole((set, fresh))
      }
    }
    Benchmark("peer: C model of the kernel's radix preserve, 2^26 \(label) pages one per call") { b in
      for _ in b.scaledIterations {
        var tree = kho_radix_model_make()
        var fresh = 0
        for p in pfns where kho_radix_model_preserve(&tree, p, 0) == 1 { fresh &+= 1 }
        blackHole((tree.pages, fresh))
        kho_radix_model_free(&tree)  // as the set is freed at the end of its iteration
      }
    }
  }
  Benchmark("peer: Swift bitmap set 2^26 random pages") { b in
    for _ in b.scaledIterations {
      var bits = [UInt64](repeating: 0, count: hostPages / 64)
      for p in randomPFNs { bits[Int(p >> 6)] |= 1 << (p & 63) }
      blackHole(bits)
    }
  }
  Benchmark("peer: Judy1 set 2^26 random pages") { b in
    for _ in b.scaledIterations {
      var j: UnsafeMutableRawPointer? = nil
      for p in randomPFNs { _ = Judy1Set(&j, Word_t(p), nil) }
      blackHole(Judy1MemUsed(j))
      _ = Judy1FreeArray(&j, nil)
    }
  }

  // --- full decode: walk the whole tree into a PreservedSet.
  Benchmark("radix full decode (2^26 set bits)") { b in
    for _ in b.scaledIterations {
      blackHole(try? RadixTree.decode(from: encoded.0, root: encoded.1))
    }
  }
  Benchmark("peer: Swift bitmap iterate set bits (2^26)") { b in
    var bits = [UInt64](repeating: 0, count: hostPages / 64)
    for p in randomPFNs { bits[Int(p >> 6)] |= 1 << (p & 63) }
    b.startMeasurement()
    for _ in b.scaledIterations {
      var n = 0
      for w in bits { n &+= w.nonzeroBitCount }
      var sum: UInt64 = 0
      for (i, var w) in bits.enumerated() {
        while w != 0 {
          sum &+= UInt64(i << 6 | w.trailingZeroBitCount)
          w &= w &- 1
        }
      }
      blackHole((n, sum))
    }
  }
  Benchmark("peer: Judy1 iterate (2^26)") { b in
    var j: UnsafeMutableRawPointer? = nil
    for p in randomPFNs { _ = Judy1Set(&j, Word_t(p), nil) }
    b.startMeasurement()
    for _ in b.scaledIterations {
      var idx: Word_t = 0
      var sum: UInt64 = 0
      var rc = Judy1First(j, &idx, nil)
      while rc == 1 {
        sum &+= UInt64(idx)
        rc = Judy1Next(j, &idx, nil)
      }
      blackHole(sum)
    }
    b.stopMeasurement()
    _ = Judy1FreeArray(&j, nil)
  }

  // --- random lookups: 1M probes.
  Benchmark("radix zero-copy isPreserved, 1M random probes") { b in
    guard let view = try? RadixTreeView(memory: encoded.0, root: encoded.1) else { return }
    b.startMeasurement()
    for _ in b.scaledIterations {
      var hits = 0
      for p in probes where (try? view.isPreserved(PhysAddr(p << 12))) == true { hits += 1 }
      blackHole(hits)
    }
  }
  Benchmark("radix zero-copy isPreserved, mixed orders 0-9, 1M probes") { b in
    guard let view = try? RadixTreeView(memory: mixedEncoded.0, root: mixedEncoded.1) else { return }
    b.startMeasurement()
    for _ in b.scaledIterations {
      var hits = 0
      for p in mixedProbes where (try? view.isPreserved(PhysAddr(p << 12))) == true { hits += 1 }
      blackHole(hits)
    }
  }
  Benchmark("peer: Judy1 test, mixed orders 0-9 (every page of every folio set), 1M probes") { b in
    var j: UnsafeMutableRawPointer? = nil
    for e in mixedEntries {
      for p in e.pfn..<e.pfn + (1 << UInt64(e.order)) { _ = Judy1Set(&j, Word_t(p), nil) }
    }
    b.startMeasurement()
    for _ in b.scaledIterations {
      var hits = 0
      for p in mixedProbes where Judy1Test(j, Word_t(p), nil) == 1 { hits += 1 }
      blackHole(hits)
    }
    b.stopMeasurement()
    _ = Judy1FreeArray(&j, nil)
  }
  Benchmark("PreservedSet.contains(pfn:), 1M random probes") { b in
    for _ in b.scaledIterations {
      var hits = 0
      for p in probes where randomSet.contains(pfn: p) { hits += 1 }
      blackHole(hits)
    }
  }
  Benchmark("peer: Swift bitmap test, 1M random probes") { b in
    var bits = [UInt64](repeating: 0, count: hostPages / 64)
    for p in randomPFNs { bits[Int(p >> 6)] |= 1 << (p & 63) }
    b.startMeasurement()
    for _ in b.scaledIterations {
      var hits = 0
      for p in probes where bits[Int(p >> 6)] & (1 << (p & 63)) != 0 { hits += 1 }
      blackHole(hits)
    }
  }
  Benchmark("peer: Judy1 test, 1M random probes") { b in
    var j: UnsafeMutableRawPointer? = nil
    for p in randomPFNs { _ = Judy1Set(&j, Word_t(p), nil) }
    b.startMeasurement()
    for _ in b.scaledIterations {
      var hits = 0
      for p in probes where Judy1Test(j, Word_t(p), nil) == 1 { hits += 1 }
      blackHole(hits)
    }
    b.stopMeasurement()
    _ = Judy1FreeArray(&j, nil)
  }

  // --- 512 order-9 folios (2 MiB each).
  Benchmark("radix encode + decode 512 order-9 folios") { b in
    let set = buildSet((0..<512).map { UInt64($0) * 4096 }, order: 9)
    b.startMeasurement()
    for _ in b.scaledIterations {
      let image = PhysicalImage()
      var alloc = PageAllocator(start: base, pages: 1 << 20)
      if let root = try? RadixTree.encode(set, into: image, allocator: &alloc) {
        blackHole(try? RadixTree.decode(from: image, root: root))
      }
    }
  }

  // --- memory: printed once, as bytes per entry.
  Benchmark(
    "memory: PreservedSet / radix image / bitmap / Judy1 bytes per entry",
    configuration: .init(maxIterations: 1)
  ) { b in
    b.stopMeasurement()
    var j: UnsafeMutableRawPointer? = nil
    for p in randomPFNs { _ = Judy1Set(&j, Word_t(p), nil) }
    let judy = Double(Judy1MemUsed(j)) / Double(setPages)
    _ = Judy1FreeArray(&j, nil)
    let set = Double(randomSet.memoryBytes) / Double(setPages)
    let image = Double(encoded.0.pageCount * 4096) / Double(setPages)
    let bitmap = Double(hostPages / 8) / Double(setPages)
    print(
      String(
        format: "bytes/entry: PreservedSet %.3f, radix tree %.3f, Swift bitmap %.3f, Judy1 %.3f", set, image, bitmap,
        judy))
  }
}

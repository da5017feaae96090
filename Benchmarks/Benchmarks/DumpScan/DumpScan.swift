// SPDX-License-Identifier: Apache-2.0
import Benchmark
import Foundation
import Glibc
import KHOCore
import KHOFormats
import KHOImage
import KHOInspect

// Dumps at real sizes: finding the root in a dense core already in the page
// cache, against reading the same file the way `cat` does (read(2) into one
// buffer); and `pages` on a 64 GiB sparse ELF core holding the demo handover
// (the root found by the scan, the map decoded), with peak resident memory.
// The files go in $TMPDIR; KHO_BENCH_DENSE_MIB and KHO_BENCH_SPARSE_GIB
// change their sizes (1024 MiB and 64 GiB).

let env = ProcessInfo.processInfo.environment
let tmp = env["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
let denseMiB = Int(env["KHO_BENCH_DENSE_MIB"] ?? "") ?? 1024
let sparseGiB = Int(env["KHO_BENCH_SPARSE_GIB"] ?? "") ?? 64

/// An ELF64 core: one PT_LOAD at physical 0 of `size` bytes at file offset 4096.
func elfHeader(size: UInt64) -> [UInt8] {
  var h = [UInt8](repeating: 0, count: 4096)
  func put(_ v: UInt64, _ at: Int, _ n: Int) {
    for i in 0..<n { h[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
  }
  h.replaceSubrange(0..<8, with: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])
  put(4, 16, 2); put(62, 18, 2); put(1, 20, 4); put(64, 32, 8); put(64, 52, 2); put(56, 54, 2); put(1, 56, 2)
  put(1, 64, 4); put(4096, 72, 8); put(size, 96, 8); put(size, 104, 8)
  return h
}

/// Writes `bytes` at `offset` of the open file.
func put(_ fd: Int32, _ bytes: [UInt8], at offset: UInt64) {
  _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
}

/// A dense core of noise with a KHO root one page from its end.
let densePath: String = {
  let path = tmp + "/kho-bench-dense-\(denseMiB).elf"
  let size = UInt64(denseMiB) << 20
  let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
  put(fd, elfHeader(size: size), at: 0)
  var chunk = [UInt8](repeating: 0, count: 8 << 20)
  var s: UInt64 = 0x9e37_79b9_7f4a_7c15
  for i in chunk.indices {
    s = s &* 6364136223846793005 &+ 1442695040888963407
    chunk[i] = UInt8(truncatingIfNeeded: s >> 56) | 1
  }
  var at: UInt64 = 0
  while at < size {
    put(fd, Array(chunk.prefix(Int(min(UInt64(chunk.count), size - at)))), at: 4096 + at)
    at += UInt64(chunk.count)
  }
  if let demo = try? DemoHandover.build(), let root = try? demo.image.bytes(at: demo.rootAddress, count: 4096) {
    put(fd, root.array, at: 4096 + size - 4096)
  }
  close(fd)
  return path
}()

/// A sparse core of `sparseGiB` with the demo handover's pages at their addresses.
let sparsePath: String = {
  let path = tmp + "/kho-bench-sparse-\(sparseGiB).elf"
  let size = UInt64(sparseGiB) << 30
  let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
  ftruncate(fd, off_t(4096 + size))
  put(fd, elfHeader(size: size), at: 0)
  if let demo = try? DemoHandover.build() {
    for pfn in demo.image.pageNumbers where pfn << 12 < size {
      if let page = try? demo.image.bytes(at: PhysAddr(pfn << 12), count: 4096) {
        put(fd, page.array, at: 4096 + pfn << 12)
      }
    }
  }
  close(fd)
  return path
}()

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .peakMemoryResident, .throughput], timeUnits: .milliseconds, maxDuration: .seconds(20),
    maxIterations: 10)

  Benchmark("scan a \(denseMiB) MiB dense core in the page cache (root one page from the end)") { b in
    let core = try ELFCore(path: densePath)
    b.startMeasurement()
    for _ in b.scaledIterations {
      let found = RootScanner.scan(core)
      precondition(found.count == 1, "the benchmark's root was not found")
      blackHole(found)
    }
  }
  Benchmark("peer: cat the same file (read(2) into one 128 KiB buffer)") { b in
    var buffer = [UInt8](repeating: 0, count: 128 << 10)
    b.startMeasurement()
    for _ in b.scaledIterations {
      let fd = open(densePath, O_RDONLY)
      var total = 0
      while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        total += n
      }
      close(fd)
      blackHole(total)
    }
  }
  Benchmark("pages: open a \(sparseGiB) GiB sparse core, find the root, decode the map") { b in
    for _ in b.scaledIterations {
      let source = try HandoverSource.open(sparsePath)
      let report = HandoverWalker(source: source).walk()
      precondition(source.rootAddress != nil && report.memoryMap != nil, "the handover was not read")
      blackHole(report.memoryMap?.entries)
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
@testable import KHOFormats

/// A small deterministic generator (SplitMix64) for building test sets from a seed.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}

/// Shapes of random sets the property tests draw.
enum SetShape: Int, CaseIterable, Sendable {
  case empty, sparseMixed, denseOrder0, clusteredMixed, hugeOrders, everything
}

/// A random set of `shape` and its entries as a plain Swift set (the oracle).
func randomSet(
  seed: UInt64, shape: SetShape, geometry g: PageGeometry = .x86_64
) -> (PreservedSet, Set<PreservedEntry>) {
  var rng = SplitMix(seed: seed)
  var set = PreservedSet(geometry: g)
  var oracle = Set<PreservedEntry>()
  let maxOrder = 63 - g.pageShift
  let pfnBits = UInt64(64 - g.pageShift)
  func add(_ pfn: UInt64, _ order: Int) {
    let aligned = ((pfn & ((1 << pfnBits) - 1)) >> UInt64(order)) << UInt64(order)
    let e = PreservedEntry(PhysAddr(aligned << UInt64(g.pageShift)), order: order)
    if (try? set.insert(e)) != nil { oracle.insert(e) }
  }
  switch shape {
  case .empty:
    break
  case .sparseMixed:
    for _ in 0..<Int.random(in: 1...60, using: &rng) {
      add(rng.next(), Int.random(in: 0...maxOrder, using: &rng))
    }
  case .denseOrder0:
    let base = UInt64.random(in: 0..<(1 << 30), using: &rng) << 10
    for _ in 0..<Int.random(in: 100...5000, using: &rng) {
      add(base + UInt64.random(in: 0..<(1 << 17), using: &rng), 0)
    }
  case .clusteredMixed:
    let base = UInt64.random(in: 0..<(1 << 28), using: &rng) << 12
    for _ in 0..<Int.random(in: 10...800, using: &rng) {
      add(
        base + UInt64.random(in: 0..<(1 << 22), using: &rng),
        [0, 0, 0, 1, 2, 9, 10, 18].randomElement(using: &rng) ?? 0)
    }
  case .hugeOrders:
    for _ in 0..<Int.random(in: 1...40, using: &rng) {
      add(rng.next(), Int.random(in: Swift.max(0, maxOrder - 20)...maxOrder, using: &rng))
    }
  case .everything:
    for (a, b) in [(SetShape.sparseMixed, 1), (.denseOrder0, 2), (.clusteredMixed, 3), (.hugeOrders, 4)] {
      let (s, o) = randomSet(seed: seed &+ UInt64(b), shape: a, geometry: g)
      set.formUnion(s)
      oracle.formUnion(o)
    }
  }
  return (set, oracle)
}

/// The root of the repository (…/Tests/KHOFormatsTests/<file> up three).
let repoRoot = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A file under Specs/vectors/.
func vectorURL(_ relative: String) -> URL {
  repoRoot.appendingPathComponent("Specs/vectors").appendingPathComponent(relative)
}

/// A file under Tests/KHOFormatsTests/Fixtures/.
func fixtureURL(_ name: String) -> URL {
  repoRoot.appendingPathComponent("Tests/KHOFormatsTests/Fixtures").appendingPathComponent(name)
}

/// Every page of `image` as (pfn, bytes), ascending.
func pages(of image: PhysicalImage) -> [(UInt64, [UInt8])] {
  image.pageNumbers.map { pfn in
    let a = PhysAddr(pfn << UInt64(image.geometry.pageShift))
    return (pfn, (try? image.bytes(at: a, count: image.geometry.pageSize).array) ?? [])
  }
}

/// A fresh image and an allocator at 4 GiB with plenty of room.
func freshImage(_ g: PageGeometry = .x86_64, start: UInt64 = 0x1_0000_0000) -> (PhysicalImage, PageAllocator) {
  (PhysicalImage(geometry: g), PageAllocator(start: PhysAddr(start), pages: 1 << 20, geometry: g))
}

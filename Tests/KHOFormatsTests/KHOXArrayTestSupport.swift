// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import KHOFormats
import XArray

/// Where xarray vectors live: Specs/vectors/<format>/ at the repository root.
func xarrayVectorURL(_ format: String, _ name: String) -> URL {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.appendingPathComponent("Specs/vectors/\(format)/\(name)")
}

/// Vectors are page dumps: the pages an encoder allocated, contiguous from
/// this address (the root table or header is the first page).
let xarrayVectorBase = PhysAddr(0x10_0000)

/// An image and allocator for encoding at the vector base.
func xarrayImage(_ g: PageGeometry = .x86_64) -> (PhysicalImage, PageAllocator) {
  (PhysicalImage(geometry: g), PageAllocator(start: xarrayVectorBase, pages: 1 << 16, geometry: g))
}

/// The bytes of every allocated page, in address order.
func pageDump(_ image: PhysicalImage, _ alloc: PageAllocator) -> [UInt8] {
  guard let first = alloc.allocated.first, let last = image.pageNumbers.last else { return [] }
  let g = image.geometry
  let n = Int(last - first.pfn(g)) + 1
  return (try? image.bytes(at: first, count: n * g.pageSize).array) ?? []
}

/// An image holding `dump` at the vector base.
func imageFromDump(_ dump: [UInt8], _ g: PageGeometry = .x86_64) -> PhysicalImage {
  let image = PhysicalImage(geometry: g)
  image.write(dump, at: xarrayVectorBase)
  return image
}

/// The folio list of a memfd, as memfd-v2 would preserve it: index (page
/// offset) -> pfn, with huge folios as range entries.
func memfdFolios() -> XArray<UInt64> {
  var x = XArray<UInt64>()
  // 64 small folios at offsets 0..<64, then a 2 MiB folio at 512, a hole,
  // then scattered pages near the end of a 1 GiB file.
  for i in 0..<UInt64(64) { x[i] = 0x10_0000 + i * 3 }
  x.store(0x20_0000, order: 9, at: 512)
  for i in stride(from: UInt64(262_000), to: 262_144, by: 7) { x[i] = 0x30_0000 + i }
  return x
}

/// A sparse PFN set (donated pages) with marks: mark0 = deposited,
/// mark1 = needs scrubbing.
func pfnSet() -> XArray<UInt64> {
  var x = XArray<UInt64>()
  var k: UInt64 = 0x8_0000
  for i in 0..<UInt64(700) {
    x[k] = i  // 0 is a real value here: v2 keeps it
    if i % 3 == 0 { x.setMark(.mark0, at: k) }
    if i % 50 == 0 { x.setMark(.mark1, at: k) }
    k += 1 + (i * 7919) % 13
  }
  return x
}

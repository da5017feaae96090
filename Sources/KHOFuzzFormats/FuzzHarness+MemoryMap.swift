// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

// Harnesses for the preserved-memory map decoders (radix-v1, kho-v1 bitmap
// chunk list) and the KHO root FDT. Map inputs are one selector byte
// followed by memory laid out as consecutive pages from `mapBase`, the
// address the Specs/vectors memory-map vectors were written at, so a seed
// is the selector byte plus a vector's `.pages` file.
//
// Selector: bits 0-1 page size (0 and 3: 4 KiB, 1: 16 KiB, 2: 64 KiB);
// bit 2 radix: `.original` depth, chunk list: head 0 (the empty map);
// bits 3-7: the page index of the root / head.

extension FuzzHarness {
  /// Where a map input's memory starts.
  static let mapBase: PhysAddr = 0x1_1000_0000

  static func mapInput(_ data: [UInt8]) -> (PhysicalImage, PhysAddr, depthOriginal: Bool)? {
    guard let selector = data.first else { return nil }
    let g = [PageGeometry.x86_64, .arm64_16K, .arm64_64K, .x86_64][Int(selector & 3)]
    let image = PhysicalImage(geometry: g)
    let body = data.dropFirst()
    var offset = body.startIndex
    var pfn = mapBase.pfn(g)
    while offset < body.endIndex {
      let end = Swift.min(offset + g.pageSize, body.endIndex)
      image.zeroPage(pfn)
      if let a = PhysAddr.ofPage(pfn, g) { image.write(body[offset..<end], at: a) }
      offset = end
      pfn += 1
    }
    let root = PhysAddr(mapBase.rawValue + UInt64(selector >> 3) * g.pageSize64)
    return (image, root, selector & 4 != 0)
  }

  /// Input: selector, then pages. Strict and reporting walks agree; a clean
  /// tree re-encodes to the same set, answers zero-copy queries like the
  /// set, and converts to a chunk list and back.
  @Sendable public static func radix(_ data: [UInt8]) -> String? {
    guard let (memory, root, original) = mapInput(data) else { return nil }
    let rule: RadixTree.DepthRule = original ? .original : .plusOne
    let report = RadixTree.decodeReporting(from: memory, root: root, depth: rule)
    let set: PreservedSet
    do {
      set = try RadixTree.decode(from: memory, root: root, depth: rule)
    } catch {
      return report.problems.first == error ? nil : "reporting walk disagrees with strict: \(error)"
    }
    guard report.isClean, report.value?.set == set else { return "reporting walk found problems in a clean tree" }
    let setBits = report.value?.radixStats?.setBits
    guard setBits == set.count else { return "setBits \(setBits ?? -1) != \(set.count) entries" }
    if let view = try? RadixTreeView(memory: memory, root: root, depth: rule) {
      for e in set.prefix(16) where (try? view.contains(e)) != true {
        return "view misses \(e)"
      }
    } else {
      return "a tree that decodes has no view"
    }
    let out = PhysicalImage(geometry: memory.geometry)
    var alloc = PageAllocator(start: mapBase, pages: 1 << 16, geometry: memory.geometry)
    guard let r2 = try? RadixTree.encode(set, into: out, allocator: &alloc, depth: rule),
      let again = try? RadixTree.decode(from: out, root: r2, depth: rule)
    else {
      // Only order 0 under the original 16 KiB depth cannot be re-encoded,
      // and such a tree cannot hold it either.
      return "a decoded tree does not re-encode"
    }
    guard again == set else { return "radix round trip changed the set" }
    guard let head = try? BitmapChunkList.encode(set, into: out, allocator: &alloc),
      let v1 = try? BitmapChunkList.decode(from: out, head: head), v1 == set
    else { return "conversion to kho-v1 changed the set" }
    return nil
  }

  /// Input: selector, then pages. Strict and reporting decodes agree; a
  /// clean list re-encodes to the same set and converts to radix and back.
  @Sendable public static func bitmapChunks(_ data: [UInt8]) -> String? {
    guard let (memory, start, empty) = mapInput(data) else { return nil }
    let head = empty ? PhysAddr.zero : start
    let report = BitmapChunkList.decodeReporting(from: memory, head: head)
    let set: PreservedSet
    do {
      set = try BitmapChunkList.decode(from: memory, head: head)
    } catch {
      return report.problems.first == error ? nil : "reporting decode disagrees with strict: \(error)"
    }
    guard report.isClean, report.value?.set == set else { return "reporting decode found problems in a clean list" }
    let out = PhysicalImage(geometry: memory.geometry)
    var alloc = PageAllocator(start: mapBase, pages: 1 << 16, geometry: memory.geometry)
    guard let h2 = try? BitmapChunkList.encode(set, into: out, allocator: &alloc),
      let again = try? BitmapChunkList.decode(from: out, head: h2), again == set
    else { return "chunk list round trip changed the set" }
    guard let root = try? RadixTree.encode(set, into: out, allocator: &alloc),
      let radix = try? RadixTree.decode(from: out, root: root), radix == set
    else { return "conversion to radix changed the set" }
    return nil
  }

  /// Arbitrary bytes as a KHO root DTB (and, for coverage, as a scratch
  /// array and a kexec-metadata blob): strict and reporting decodes agree;
  /// a decoded root re-encodes, in both layouts, to a DTB that decodes to
  /// the same root.
  @Sendable public static func khoRoot(_ data: [UInt8]) -> String? {
    let bytes = Bytes(data)
    if let areas = try? KHOScratch.decode(bytes), KHOScratch.encode(areas) != data {
      return "scratch array does not re-encode to its bytes"
    }
    if let m = try? KexecMetadata(decoding: bytes), let again = try? m.encoded(),
      (try? KexecMetadata(decoding: Bytes(again))) != m
    {
      return "kexec-metadata round trip changed it"
    }
    guard let fdt = try? FDT(parsing: bytes, allowTrailingBytes: true) else { return nil }
    let lenient = KHORoot.decodeReporting(fdt)
    let root: KHORoot
    do {
      root = try KHORoot.decode(fdt)
    } catch {
      return lenient.problems.first == error ? nil : "reporting decode disagrees with strict: \(error)"
    }
    guard lenient.isClean, lenient.value == root else { return "reporting decode found problems in a clean root" }
    for layout in [KHORoot.Layout.kernel(pageSize: 4096), .sequential] {
      // Names libfdt refuses, or a root too big for a page, may not encode.
      guard let dtb = try? root.encode(layout: layout) else { continue }
      guard let back = try? KHORoot.decode(try FDT(parsing: dtb)) else {
        return "an encoded root does not decode"
      }
      if back != root { return "root round trip (\(layout)) changed it" }
    }
    return nil
  }
}

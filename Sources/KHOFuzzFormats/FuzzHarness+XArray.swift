// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats
import XArray

extension FuzzHarness {
  /// Where the kho-xarray harnesses place their input.
  static let xarrayBase = PhysAddr(0x10_0000)

  static func pageDump(_ data: ArraySlice<UInt8>) -> (any PhysicalMemory)? {
    try? SegmentedMemory(geometry: .x86_64, pieces: [(xarrayBase, Bytes(data))])
  }

  /// Arbitrary bytes as a page dump at 0x100000 holding a kho-xarray-v1
  /// tree rooted at its first page: rejected with a DecodeError, or an
  /// array that re-encodes and decodes to itself.
  @Sendable public static func xarrayV1(_ data: [UInt8]) -> String? {
    guard let image = pageDump(data[...]),
      let view = try? KHOXArrayV1View(memory: image, root: xarrayBase)
    else { return nil }
    let x = view.makeXArray()
    if x.count != view.count { return "count \(view.count) but \(x.count) entries" }
    for (k, v) in x.prefix(64) where view.load(k) != v { return "load \(k)" }
    let out = PhysicalImage()
    var alloc = PageAllocator(start: PhysAddr(0x1000_0000), pages: 1 << 20)
    guard let root = try? KHOXArrayV1.encode(x, into: out, allocator: &alloc) else {
      return "a decoded array does not re-encode"
    }
    guard let again = try? KHOXArrayV1.decode(from: out, root: root), again == x else {
      return "kho-xarray-v1 round trip changed the array"
    }
    return nil
  }

  /// Arbitrary bytes as a page dump at 0x100000 with a kho-xarray-v2 header
  /// on its first page. Checksums are not verified (so the fuzzer reaches
  /// the structure checks); whatever opens must round-trip.
  @Sendable public static func xarrayV2(_ data: [UInt8]) -> String? {
    guard let image = pageDump(data[...]) else { return nil }
    guard let view = try? KHOXArrayV2View(memory: image, at: xarrayBase, verifyChecksums: false) else {
      _ = try? KHOXArrayV2View(memory: image, at: xarrayBase, verifyChecksums: true)
      return nil
    }
    let x = view.makeXArray()
    if x.count != view.count { return "count \(view.count) but \(x.count) entries" }
    let out = PhysicalImage()
    var alloc = PageAllocator(start: PhysAddr(0x1000_0000), pages: 1 << 20)
    // Re-encoded in the input's list layout, so that both are written.
    let lists: KHOXArrayV2.ListLayout =
      view.header.flags & KHOXArrayV2.flagPairedLists != 0 ? .paired : .separate
    guard let at = try? KHOXArrayV2.encode(x, into: out, allocator: &alloc, lists: lists),
      let again = try? KHOXArrayV2.decode(from: out, at: at)
    else { return "a decoded array does not re-encode" }
    return again == x ? nil : "kho-xarray-v2 round trip changed the array"
  }

  /// The zero-copy views against the in-memory store, differentially: the
  /// first 64 bytes are eight query keys, the rest a page dump at 0x100000
  /// with a kho-xarray-v2 header (or, if that fails, a v1 root).
  @Sendable public static func xarrayView(_ data: [UInt8]) -> String? {
    guard data.count > 64, let image = pageDump(data[64...]) else { return nil }
    let keys: [UInt64] = (0..<8).map { i in
      (0..<8).reduce(0) { $0 | UInt64(data[i * 8 + $1]) << (8 * UInt64($1)) }
    }
    let view: any KHOXArrayReading
    if let v2 = try? KHOXArrayV2View(memory: image, at: xarrayBase, verifyChecksums: false) {
      view = v2
    } else if let v1 = try? KHOXArrayV1View(memory: image, root: xarrayBase) {
      view = v1
    } else {
      return nil
    }
    let x = view.makeXArray()
    for k in keys + keys.map({ $0 % 4096 }) {
      if view.load(k) != x[k] { return "load \(k)" }
      if view.firstIndex(from: k, marked: nil) != x.firstIndex(from: k) { return "first \(k)" }
      if view.lastIndex(through: k, marked: nil) != x.lastIndex(through: k) { return "last \(k)" }
      for m in XArrayMark.all where view.firstIndex(from: k, marked: m) != x.firstIndex(from: k, marked: m) {
        return "first marked \(k)"
      }
    }
    return nil
  }
}

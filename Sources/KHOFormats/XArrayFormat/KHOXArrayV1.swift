// SPDX-License-Identifier: Apache-2.0
import KHOCore
import XArray

/// kho-xarray-v1: the preserved xarray of the upstream prototype, exactly.
///
/// A fixed-depth radix tree of page-sized tables. Interior tables hold
/// `pageSize/8` child physical addresses, leaf tables `pageSize/8` u64
/// values; 0 means "no child" and "no value". Keys have at most 54 bits;
/// the depth is `ceil(54 / log2(pageSize/8))` (6 with 4 KiB pages). The
/// embeddable `struct kho_xarray` is just the root's physical address.
/// See Specs/kho-xarray-v1.md and kho-abi.md §8.1.
public enum KHOXArrayV1 {
  /// The widest key the format stores, in bits.
  public static let keyWidth = 54

  /// Key bits consumed by one table: log2(pageSize / 8).
  public static func tableBits(_ g: PageGeometry) -> Int { g.pageShift - 3 }

  /// Number of table levels, root to leaf: ceil(54 / tableBits).
  public static func depth(_ g: PageGeometry) -> Int {
    (keyWidth + tableBits(g) - 1) / tableBits(g)
  }

  /// Writes `array` into `image`; returns the root table's address (zero
  /// for an empty array, as the prototype clears the root when empty).
  ///
  /// Pages are allocated in depth-first order, each table before its
  /// children, so the same array always gives the same bytes.
  ///
  /// - Throws: `EncodeError` `.notRepresentable` for a value 0 (v1 reads
  ///   0 as absent), a range entry or a mark; `.outOfRange` for a key wider
  ///   than 54 bits; `.outOfMemory` from the allocator.
  public static func encode(
    _ array: XArray<UInt64>, into image: PhysicalImage, allocator: inout PageAllocator,
    path: DecodePath = "/xarray"
  ) throws(EncodeError) -> PhysAddr {
    let g = image.geometry
    try array.forEachEntry { (e: XArrayEntry<UInt64>) throws(EncodeError) in
      let at = "index 0x\(String(e.index, radix: 16))"
      if e.order != 0 {
        throw EncodeError(
          .notRepresentable,
          "range entry of order \(e.order) at \(at): kho-xarray-v1 has single entries only",
          path: path)
      }
      if !e.marks.isEmpty {
        throw EncodeError(.notRepresentable, "marks \(e.marks) at \(at): kho-xarray-v1 has no marks", path: path)
      }
      if e.element == 0 {
        throw EncodeError(
          .notRepresentable, "value 0 at \(at): kho-xarray-v1 reads 0 as absent (use kho-xarray-v2)",
          path: path)
      }
      if e.index >> UInt64(keyWidth) != 0 {
        throw EncodeError(.outOfRange, "key 0x\(String(e.index, radix: 16)) is wider than 54 bits", path: path)
      }
    }
    if array.isEmpty { return .zero }
    let bits = tableBits(g)
    let levels = depth(g)
    let mask = (UInt64(1) << UInt64(bits)) - 1
    let root = try allocator.allocate(in: image)
    // tables[L]: the table at level L on the current key's path, and the
    // key prefix (key >> (L + 1) * bits) it serves.
    var tables = [PhysAddr](repeating: .zero, count: levels)
    var prefixes = [UInt64](repeating: .max, count: levels)
    tables[levels - 1] = root
    prefixes[levels - 1] = 0
    for (key, value) in array {
      for level in stride(from: levels - 1, through: 1, by: -1) {
        let childPrefix = key >> UInt64(level * bits)
        if prefixes[level - 1] != childPrefix {
          let child = try allocator.allocate(in: image)
          let slot = (key >> UInt64(level * bits)) & mask
          image.store(child.rawValue, at: PhysAddr(tables[level].rawValue + slot * 8))
          tables[level - 1] = child
          prefixes[level - 1] = childPrefix
        }
      }
      image.store(value, at: PhysAddr(tables[0].rawValue + (key & mask) * 8))
    }
    return root
  }

  /// Reads a whole kho-xarray-v1 tree into an `XArray`, validating it.
  public static func decode(
    from memory: any PhysicalMemory, root: PhysAddr, path: DecodePath = "/xarray"
  ) throws(DecodeError) -> XArray<UInt64> {
    try KHOXArrayV1View(memory: memory, root: root, path: path).makeXArray()
  }

  /// ``decode(from:root:path:)`` as an outcome: the tree is checked whole,
  /// so the value is all of it or `nil` with the first problem.
  public static func decodeReporting(
    from memory: any PhysicalMemory, root: PhysAddr, path: DecodePath = "/xarray"
  ) -> DecodeOutcome<XArray<UInt64>> {
    .collect { (_) throws(DecodeError) in try decode(from: memory, root: root, path: path) }
  }
}

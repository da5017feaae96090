// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension PreservedSet {
  /// Pairs of entries of different orders that cover the same pages, at most `limit`.
  ///
  /// Entries of one order are aligned and distinct, so overlaps only occur
  /// between orders: each entry of the less populous order is checked
  /// against the other order with a range query, so a single-order map of
  /// any size costs nothing here.
  public func overlappingEntries(limit: Int = 100) -> [(PreservedEntry, PreservedEntry)] {
    let g = geometry
    var out: [(PreservedEntry, PreservedEntry)] = []
    let all = orders
    for (i, a) in all.enumerated() {
      for b in all[(i + 1)...] {
        let (small, big) = count(order: a) <= count(order: b) ? (a, b) : (b, a)
        for e in entries(order: small) {
          let pfn = e.pfn(g)
          guard let other = firstEntry(order: big, overlapping: pfn..<pfn &+ e.pageCount) else { continue }
          out.append((e, other))
          if out.count >= limit { return out }
        }
      }
    }
    return out
  }
}

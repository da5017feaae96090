// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension PreservedSet {
  /// Preserves the page-frame range `pages` the way `kho_preserve_pages()`
  /// does: as maximal naturally aligned power-of-two pieces
  /// (`order = min(ctz(pfn), ilog2(end - pfn))`).
  ///
  /// - Throws: `EncodeError` (`outOfRange`) when the range reaches past
  ///   64-bit physical addresses; nothing is inserted then.
  public mutating func preserve(pages: Range<UInt64>) throws(EncodeError) {
    guard pages.upperBound <= 1 << UInt64(64 - geometry.pageShift) else {
      throw EncodeError(.outOfRange, "page range ends beyond 64-bit physical addresses")
    }
    defer { _checkInvariantsAfterEntry() }
    let shift = chunkShift
    let w = wordsPerChunk
    PreservedEntry.forEachPiece(of: pages, geometry) { e in
      let pfn = e.phys.pfn(geometry)
      _ = _orders[e.order].insert(pfn >> UInt64(e.order), chunkShift: shift, wordsPerChunk: w)
    }
  }

  /// Preserves the bytes `range`, which must start and end on page boundaries.
  public mutating func preserve(_ range: PhysRange) throws(EncodeError) {
    guard range.start.isPageAligned(geometry), range.size & geometry.pageMask == 0 else {
      throw EncodeError(.outOfRange, "range \(range) is not page aligned")
    }
    let first = range.start.pfn(geometry)
    try preserve(pages: first..<first + (range.size >> UInt64(geometry.pageShift)))
  }

  /// Removes the pieces that ``preserve(pages:)`` would insert for `pages`
  /// (like `kho_unpreserve_pages()`); returns how many were present.
  @discardableResult
  public mutating func unpreserve(pages: Range<UInt64>) -> Int {
    defer { _checkInvariantsAfterEntry() }
    var removed = 0
    let shift = chunkShift
    let w = wordsPerChunk
    PreservedEntry.forEachPiece(of: pages, geometry) { e in
      let pfn = e.phys.pfn(geometry)
      if _orders[e.order].remove(pfn >> UInt64(e.order), chunkShift: shift, wordsPerChunk: w) {
        removed += 1
      }
    }
    return removed
  }
}

extension PreservedSet {
  /// The first entry of `order` that shares a page with the page range
  /// `pages`, by ascending address, or `nil`.
  ///
  /// Scans the order's chunks that overlap the range word by word, so a
  /// query costs O(log chunks + words in the range), not O(entries).
  public func firstEntry(order: Int, overlapping pages: Range<UInt64>) -> PreservedEntry? {
    guard order >= 0, order < _orders.count, !pages.isEmpty else { return nil }
    let o = UInt64(order)
    // Order-normalised indices j whose pages [j << o, (j + 1) << o) meet the range.
    let lo = pages.lowerBound >> o
    let hi = (pages.upperBound - 1) >> o
    let bits = _orders[order]
    guard !bits.isEmpty else { return nil }
    let shift = UInt64(chunkShift)
    let w = wordsPerChunk
    var pos = bits.search(lo >> shift).position
    while pos < bits.keys.count {
      let chunk = bits.keys[pos]
      let chunkFirst = chunk << shift
      if chunkFirst > hi { break }
      let base = bits.slots[pos] * w
      let from = lo > chunkFirst ? lo - chunkFirst : 0
      let to = Swift.min(hi - chunkFirst, UInt64(w * 64 - 1))
      var wi = Int(from >> 6)
      while wi <= Int(to >> 6) {
        var word = bits.words[base + wi]
        if wi == Int(from >> 6) { word &= ~UInt64(0) << (from & 63) }
        if wi == Int(to >> 6), to & 63 != 63 { word &= (UInt64(1) << ((to & 63) + 1)) &- 1 }
        if word != 0 {
          let j = chunkFirst + UInt64(wi * 64 + word.trailingZeroBitCount)
          if let phys = PhysAddr.ofPage(j << o, geometry) { return PreservedEntry(phys, order: order) }
          return nil
        }
        wi += 1
      }
      pos += 1
    }
    return nil
  }
}

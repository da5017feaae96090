import KHOCore

extension PreservedSet {
  /// Preserves the page-frame range `pages` the way `kho_preserve_pages()`
  /// does: as maximal naturally aligned power-of-two pieces
  /// (`order = min(ctz(pfn), ilog2(end - pfn))`).
  ///
  /// - Throws: ``EncodeError`` (`outOfRange`) when the range reaches past
  ///   64-bit physical addresses; nothing is inserted then.
  public mutating func preserve(pages: Range<UInt64>) throws(EncodeError) {
    guard pages.upperBound <= 1 << UInt64(64 - geometry.pageShift) else {
      throw EncodeError(.outOfRange, "page range ends beyond 64-bit physical addresses")
    }
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

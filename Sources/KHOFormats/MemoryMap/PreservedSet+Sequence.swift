// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension PreservedSet: Sequence {
  /// Iterates the entries sorted by physical address, then by order.
  public struct Iterator: IteratorProtocol {
    @usableFromInline var cursors: [_OrderCursor]
    @usableFromInline let pageShift: UInt64

    @usableFromInline
    init(_ set: PreservedSet) {
      pageShift = UInt64(set.geometry.pageShift)
      cursors = set._orders.indices.compactMap { o in
        set._orders[o].isEmpty ? nil : _OrderCursor(set._orders[o], order: o, set: set)
      }
    }

    public mutating func next() -> PreservedEntry? {
      if cursors.count == 1 {
        guard let j = cursors[0].next() else { return nil }
        let o = cursors[0].order
        return PreservedEntry(PhysAddr((j << UInt64(o)) << pageShift), order: o)
      }
      // Merge: the cursor with the lowest (pfn, order) head.
      var best = -1
      var bestPfn = UInt64.max
      for i in cursors.indices {
        guard let j = cursors[i].head else { continue }
        let pfn = j << UInt64(cursors[i].order)
        if best < 0 || pfn < bestPfn {  // cursors are in ascending order: ties keep the lower
          best = i
          bestPfn = pfn
        }
      }
      guard best >= 0 else { return nil }
      let o = cursors[best].order
      _ = cursors[best].next()
      return PreservedEntry(PhysAddr(bestPfn << pageShift), order: o)
    }
  }

  public func makeIterator() -> Iterator { Iterator(self) }

  public var underestimatedCount: Int { count }

  /// The entry with the lowest address (lowest order on ties), if any.
  public var first: PreservedEntry? {
    var it = makeIterator()
    return it.next()
  }

  /// The entries of one order in ascending address order.
  public func entries(order: Int) -> [PreservedEntry] {
    var out: [PreservedEntry] = []
    forEach(order: order) { out.append($0) }
    return out
  }

  /// Calls `body` with each entry of `order`, ascending, without allocating.
  @inlinable
  public func forEach(order: Int, _ body: (PreservedEntry) -> Void) {
    guard order >= 0, order < _orders.count else { return }
    let shift = UInt64(order + geometry.pageShift)
    _forEachIndex(order: order) { j in body(PreservedEntry(PhysAddr(j << shift), order: order)) }
  }

  /// Calls `body` with every entry in the kernel's radix walk order: the
  /// largest order first, each order in ascending address order.
  @inlinable
  public func forEachInWalkOrder(_ body: (PreservedEntry) -> Void) {
    for o in _orders.indices.reversed() { forEach(order: o, body) }
  }

  /// Calls `body` with each set order-normalised page number (`pfn >> order`).
  @inlinable
  func _forEachIndex(order: Int, _ body: (UInt64) -> Void) {
    let shift = UInt64(chunkShift)
    _orders[order].forEachChunk(wordsPerChunk: wordsPerChunk) { c, words in
      let base = c << shift
      for (wi, word) in words.enumerated() where word != 0 {
        var bits = word
        let wbase = base | UInt64(wi << 6)
        while bits != 0 {
          body(wbase | UInt64(bits.trailingZeroBitCount))
          bits &= bits &- 1
        }
      }
    }
  }
}

/// Walks the set bits of one order in ascending order.
@usableFromInline
struct _OrderCursor {
  @usableFromInline let map: _OrderBitmap
  @usableFromInline let order: Int
  @usableFromInline let w: Int
  @usableFromInline let chunkShift: UInt64
  @usableFromInline var position = 0  // in map.keys
  @usableFromInline var wordIndex = 0  // in the chunk
  @usableFromInline var bits: UInt64 = 0
  /// The next value, or `nil` at the end.
  @usableFromInline var head: UInt64?

  @usableFromInline
  init(_ map: _OrderBitmap, order: Int, set: PreservedSet) {
    self.map = map
    self.order = order
    self.w = set.wordsPerChunk
    self.chunkShift = UInt64(set.chunkShift)
    self.wordIndex = -1
    advance()
  }

  /// Returns the head and moves to the next set bit.
  @usableFromInline
  mutating func next() -> UInt64? {
    let h = head
    if h != nil { advance() }
    return h
  }

  @usableFromInline
  mutating func advance() {
    while bits == 0 {
      wordIndex += 1
      if wordIndex == w {
        wordIndex = 0
        position += 1
      }
      guard position < map.keys.count else {
        head = nil
        return
      }
      bits = map.words[map.slots[position] * w + wordIndex]
    }
    let bit = UInt64(bits.trailingZeroBitCount)
    bits &= bits &- 1
    head = (map.keys[position] << chunkShift) | UInt64(wordIndex << 6) | bit
  }
}

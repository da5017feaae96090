// SPDX-License-Identifier: Apache-2.0

// Freezing: once the openers have added every node, the lookup fast path
// gets plain pointer copies of the arrays, a table of leaves by block and,
// for v2 trees, a table of 64-key words.

extension _ShadowTree {
  /// Calls `body` with every leaf below `ref` and its block number.
  func forEachLeaf(
    _ ref: _ShadowRef, level: Int, block: UInt64, _ body: (_ShadowRef, UInt64) -> Void
  ) {
    switch ref.kind {
    case .node:
      let id = ref.id
      let shift = (level - 1) * nodeBits
      for j in 0..<(1 << nodeBits) {
        let c = children[(id << nodeBits) | j]
        if c.isNode || c.isLeaf {
          forEachLeaf(c, level: level - 1, block: block | (UInt64(j) << UInt64(shift)), body)
        }
      }
    case .leaf:
      // A list covers a whole subtree, not one block: lookups reach it
      // by the descent.
      if leaves[ref.id].kind != .list { body(ref, block) }
    case .empty, .range:
      break
    }
  }

  /// The block number of the first key the root covers.
  var firstBlock: UInt64 {
    let top = coverBits(rootLevel)
    return top - leafBits >= 64 ? 0 : rootPrefix << UInt64(top - leafBits)
  }

  /// Ends building: takes the lookup copies and the block table.
  func freeze() {
    let first = firstBlock
    var lo = UInt64.max
    var hi: UInt64 = 0
    forEachLeaf(root, level: rootLevel, block: first) { _, b in
      lo = Swift.min(lo, b)
      hi = Swift.max(hi, b)
    }
    if lo <= hi, hi - lo < UInt64(Swift.max(1 << 16, 8 * leaves.count)) {
      blockBase = lo
      blockCount = hi - lo + 1
      let t = UnsafeMutablePointer<_BlockEntry>.allocate(capacity: Int(blockCount))
      t.initialize(repeating: .none, count: Int(blockCount))
      forEachLeaf(root, level: rootLevel, block: first) { ref, b in
        let l = leaves[ref.id]
        let p = UInt(bitPattern: l.values)
        if p & 7 == 0 && l.kind == .dense {
          t[Int(b - lo)] = .dense(p)
        } else if p & 7 == 0 && l.kind == .v1 {
          t[Int(b - lo)] = .v1(p)
        } else {
          t[Int(b - lo)] = .leaf(ref)
        }
      }
      blockTable = t
      if leaves.contains(where: { $0.kind == .packed || $0.kind == .wide }), blockCount <= 2 * UInt64(leaves.count) {
        buildWordTable(first: first)
      }
    }
    func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
      let p = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(a.count, 1))
      _ = UnsafeMutableBufferPointer(start: p, count: a.count).initialize(from: a)
      return p
    }
    frozenChildren = copy(children)
    frozenLeaves = copy(leaves)
    frozenRanks = copy(rankTable)
    frozenPresent = copy(presentTable)
    frozenFences = copy(fences)
    _checkInvariants()
  }

  /// Fills `wordTable` from the leaves (after `blockTable`).
  func buildWordTable(first: UInt64) {
    let perBlock = bitmapWords
    let words = Int(blockCount) * perBlock
    let t = UnsafeMutablePointer<_WordEntry>.allocate(capacity: words)
    t.initialize(repeating: _WordEntry(), count: words)
    forEachLeaf(root, level: rootLevel, block: first) { ref, b in
      let l = leaves[ref.id]
      let values = UInt(bitPattern: l.values)
      let row = Int(b - blockBase) * perBlock
      for w in 0..<perBlock {
        switch l.kind {
        case .dense:
          t[row + w] = _WordEntry(present: .max, base: (values + UInt(w * 512)) | 1)
        case .wide:
          t[row + w] = _WordEntry(present: presentTable[l.rankBase + w], base: (values + UInt(w * 512)) | 1)
        case .packed:
          t[row + w] = _WordEntry(
            present: presentTable[l.rankBase + w], base: values + UInt(rankTable[l.rankBase + w]) * 8)
        case .v1, .list:
          break
        }
      }
    }
    wordTable = t
  }
}

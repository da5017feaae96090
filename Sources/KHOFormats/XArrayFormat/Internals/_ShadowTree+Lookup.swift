// SPDX-License-Identifier: Apache-2.0

// Point queries: `find` (the whole entry covering a key) and `value(at:)`,
// the lookup fast path of both views.

extension _ShadowTree {
  /// The entry covering `key`.
  func find(_ key: UInt64) -> _ShadowEntry? {
    let cb = coverBits(rootLevel)
    guard cb >= 64 || key >> UInt64(cb) == rootPrefix else { return nil }
    var ref = root
    var level = rootLevel
    while true {
      let id = ref.id
      switch ref.kind {
      case .node:
        let sb = slotBits(level)
        let idx = Int(truncatingIfNeeded: (key >> UInt64(sb)) & ((1 << UInt64(nodeBits)) &- 1))
        ref = children[(id << nodeBits) | idx]
        level -= 1
      case .leaf:
        let l = leaves[id]
        if l.kind == .list { return listPosition(l, key).map { listEntry(l, $0) } }
        let i = Int(truncatingIfNeeded: key & ((1 << UInt64(leafBits)) &- 1))
        if l.kind == .dense || l.kind == .v1 {
          let v = load(l.values, i * 8)
          if l.kind == .v1 && v == 0 { return nil }
          return _ShadowEntry(first: key, last: key, value: v, marks: 0)
        }
        guard let h = head(l, covering: i) else { return nil }
        return entry(l, key & ~((1 << UInt64(leafBits)) &- 1), head: h)
      case .range:
        let r = ranges[id]
        return r.first <= key && key <= r.last ? r : nil
      case .empty:
        return nil
      }
    }
  }

  /// The value at `key` alone (the lookup fast path).
  @inline(__always) func value(at key: UInt64) -> UInt64? {
    let top = leafBits &+ rootLevel &* nodeBits
    guard top >= 64 || key >> UInt64(top) == rootPrefix,
      let ch = frozenChildren, let lv = frozenLeaves, let rk = frozenRanks,
      let pt = frozenPresent
    else { return nil }
    let block = (key >> UInt64(leafBits)) &- blockBase
    // The word table spans the block table's blocks: the same range check.
    if let wt = wordTable, block < blockCount {
      let w = (key >> 6) &- (blockBase << UInt64(leafBits &- 6))
      let e = wt[Int(truncatingIfNeeded: w)]
      let b = key & 63
      if (e.present >> b) & 1 != 0 {
        let p = UnsafeRawPointer(bitPattern: e.base & ~1).unsafelyUnwrapped
        if e.base & 1 != 0 { return load(p, Int(truncatingIfNeeded: b) &* 8) }
        return load(p, (e.present & ((1 << b) &- 1)).nonzeroBitCount &* 8)
      }
    }
    var ref = root
    if let t = blockTable, block < blockCount, case let e = t[Int(truncatingIfNeeded: block)], !e.isNone {
      let i = Int(truncatingIfNeeded: key & ((1 << UInt64(leafBits)) &- 1))
      if e.isDense {
        return load(e.values, i &* 8)
      }
      if e.isV1 {
        let v = load(e.values, i &* 8)
        return v == 0 ? nil : v
      }
      ref = e.ref
    } else {
      var level = rootLevel
      let mask: UInt64 = (1 << UInt64(nodeBits)) &- 1
      while ref.isNode {
        let sb = leafBits &+ (level &- 1) &* nodeBits
        ref = ch[(ref.id << nodeBits) | Int(truncatingIfNeeded: (key >> UInt64(sb)) & mask)]
        level &-= 1
      }
    }
    if ref.isLeaf {
      let l = lv[ref.id]
      let i = Int(truncatingIfNeeded: key & ((1 << UInt64(leafBits)) &- 1))
      switch l.kind {
      case .dense:
        return load(l.values, i &* 8)
      case .v1:
        let v = load(l.values, i &* 8)
        return v == 0 ? nil : v
      case .packed:
        let w = i >> 6
        let word = pt[l.rankBase &+ w]
        if (word >> UInt64(i & 63)) & 1 != 0 {
          let below = word & ((1 << UInt64(i & 63)) &- 1)
          return load(l.values, (Int(rk[l.rankBase &+ w]) &+ below.nonzeroBitCount) &* 8)
        }
      case .wide:
        if (pt[l.rankBase &+ (i >> 6)] >> UInt64(i & 63)) & 1 != 0 { return load(l.values, i &* 8) }
      case .list:
        return listPosition(l, key).map { load(l.values, $0 &* l.step) }
      }
    } else if ref.isEmpty {
      return nil
    }
    // Ranges and keys inside a range's siblings take the general path.
    return find(key)?.value
  }
}

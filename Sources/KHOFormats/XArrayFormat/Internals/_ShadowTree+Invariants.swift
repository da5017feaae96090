// SPDX-License-Identifier: Apache-2.0

// Invariant checks, compiled in only when KHO_INTERNAL_CHECKS is defined
// (`KHO_INTERNAL_CHECKS=1 swift test`; see Package.swift). Otherwise
// `_checkInvariants()` is empty and inlines away. `freeze()` calls it: the
// tree is partial until then (the openers add a node before its children
// and set `root` last), and nothing changes it after.

#if KHO_INTERNAL_CHECKS
  extension _ShadowTree {
    /// Traps if a structural invariant is broken: the arrays agree in
    /// size, every reference names something that exists, leaves sit at
    /// their level and inside their slot, list indices ascend, rank tables
    /// and fences match the pages, mark summaries match the entries below,
    /// `count` matches the entries, and the frozen tables match the tree.
    @inline(never)
    func _checkInvariants() {
      precondition(children.count == nodeCount << nodeBits, "children: \(children.count) for \(nodeCount) nodes")
      precondition(slotMarks.count == children.count, "slotMarks: \(slotMarks.count) for \(children.count) slots")
      precondition(bitmapWords * 64 == 1 << leafBits, "bitmapWords \(bitmapWords) for \(leafBits) leaf bits")
      precondition(rankTable.count == presentTable.count, "rank and present tables differ in size")
      let cb = coverBits(rootLevel)
      precondition(rootLevel >= 0 && (cb < 64 || rootPrefix == 0), "root prefix \(rootPrefix) at level \(rootLevel)")
      var entries = ranges.count
      for l in leaves { entries += checkLeaf(l) }
      precondition(count == entries, "count \(count) but the leaves and ranges hold \(entries) entries")
      for r in ranges {
        precondition(r.first <= r.last && r.marks & ~7 == 0, "range \(r.first)...\(r.last) marks \(r.marks)")
      }
      _ = checkSubtree(root, level: rootLevel, base: cb >= 64 ? 0 : rootPrefix << UInt64(cb))
      checkFrozen()
    }

    /// All-ones below bit `bits` (which may be 64 or more).
    private func lowMask(_ bits: Int) -> UInt64 { bits >= 64 ? .max : (1 << UInt64(bits)) &- 1 }

    /// Checks leaf `l` on its own; returns its number of entries.
    private func checkLeaf(_ l: _LeafInfo) -> Int {
      let n = 1 << leafBits
      switch l.kind {
      case .v1:
        precondition(l.meta == nil, "v1 leaf with bitmaps")
        return (0..<n).reduce(0) { $0 + (load(l.values, $1 * 8) != 0 ? 1 : 0) }
      case .dense:
        precondition(l.meta == nil, "dense leaf with bitmaps")
        return n
      case .packed, .wide:
        guard let m = l.meta else { preconditionFailure("\(l.kind) leaf without bitmaps") }
        precondition(l.rankBase >= 0 && l.rankBase + bitmapWords <= rankTable.count, "rank base \(l.rankBase)")
        var heads = 0
        for w in 0..<bitmapWords {
          let present = load(m, w * 8)
          precondition(presentTable[l.rankBase + w] == present, "present table differs from the leaf at word \(w)")
          precondition(rankTable[l.rankBase + w] == UInt16(truncatingIfNeeded: heads), "rank table wrong at word \(w)")
          precondition(load(m, (bitmapWords + w) * 8) & present == 0, "a key is both an entry and a sibling")
          for k in 0..<3 {
            precondition(load(m, ((2 + k) * bitmapWords + w) * 8) & ~present == 0, "mark \(k) on a non-entry")
          }
          heads += present.nonzeroBitCount
        }
        precondition(heads > 0, "\(l.kind) leaf with no entry")
        return heads
      case .list:
        guard let k = l.keys, l.meta != nil else { preconditionFailure("list leaf without keys or marks") }
        precondition(l.count >= 1, "list leaf of \(l.count) entries")
        let runs = (l.count + _listRun - 1) / _listRun
        precondition(l.fenceBase >= 0 && l.fenceBase + runs <= fences.count, "fence base \(l.fenceBase)")
        for i in 0..<l.count {
          precondition(l.step == 8 || l.step == 16, "list step \(l.step)")
          let key = load(k, i * l.step)
          if i > 0 { precondition(load(k, (i - 1) * l.step) < key, "list indices not ascending at \(i)") }
          if i % _listRun == 0 {
            precondition(fences[l.fenceBase + i / _listRun] == key, "fence of run \(i / _listRun) differs")
          }
        }
        return l.count
      }
    }

    /// The marks of the leaf `l`'s entries (0 for v1 and dense leaves).
    private func leafMarks(_ l: _LeafInfo) -> UInt8 {
      guard let m = l.meta else { return 0 }
      let words = l.kind == .list ? (l.count + 63) / 64 : bitmapWords
      let first = l.kind == .list ? 0 : 2
      var r: UInt8 = 0
      for k in 0..<3 {
        for w in 0..<words where load(m, ((first + k) * words + w) * 8) != 0 { r |= 1 << UInt8(k) }
      }
      return r
    }

    /// Checks the subtree `ref` at `level`, whose first key is `base`;
    /// returns the marks of its entries.
    private func checkSubtree(_ ref: _ShadowRef, level: Int, base: UInt64) -> UInt8 {
      let cover = coverBits(level)
      switch ref.kind {
      case .empty:
        return 0
      case .node:
        precondition(level >= 1, "interior node at level \(level)")
        precondition(ref.id < nodeCount, "node \(ref.id) of \(nodeCount)")
        let sb = slotBits(level)
        var marks: UInt8 = 0
        for j in 0..<(1 << nodeBits) {
          let slot = (ref.id << nodeBits) | j
          let c = children[slot]
          guard j == 0 || (sb < 64 && UInt64(j) <= UInt64.max >> UInt64(sb)) else {
            precondition(c.isEmpty, "slot \(j) beyond 2^64 in use")
            continue
          }
          let slotBase = base | (j == 0 ? 0 : UInt64(j) << UInt64(sb))
          let below: UInt8
          switch c.kind {
          case .empty:
            below = 0
          case .range:
            precondition(c.id < ranges.count, "range \(c.id) of \(ranges.count)")
            let r = ranges[c.id]
            precondition(r.first <= slotBase && slotBase | lowMask(sb) <= r.last, "range does not cover slot \(j)")
            below = r.marks
          case .node, .leaf:
            below = checkSubtree(c, level: level - 1, base: slotBase)
          }
          precondition(slotMarks[slot] == below, "slot \(j) summary \(slotMarks[slot]) but entries have \(below)")
          marks |= below
        }
        return marks
      case .leaf:
        precondition(ref.id < leaves.count, "leaf \(ref.id) of \(leaves.count)")
        let l = leaves[ref.id]
        if l.kind == .list {
          precondition(level >= 1, "list leaf at level 0")
          if let k = l.keys {
            for i in 0..<l.count {
              let key = load(k, i * 8)
              precondition(base <= key && key <= base | lowMask(cover), "list index outside its slot")
            }
          }
        } else {
          precondition(level == 0, "\(l.kind) leaf at level \(level)")
          precondition(base & lowMask(leafBits) == 0, "leaf block not aligned")
        }
        return leafMarks(l)
      case .range:
        precondition(ref.id < ranges.count, "range \(ref.id) of \(ranges.count)")
        let r = ranges[ref.id]
        precondition(r.first <= base && base | lowMask(cover) <= r.last, "root range does not cover the root")
        return r.marks
      }
    }

    /// Checks the copies and tables that `freeze()` made against the tree.
    private func checkFrozen() {
      guard let ch = frozenChildren, let lv = frozenLeaves, let rk = frozenRanks, let pt = frozenPresent,
        let fe = frozenFences
      else { preconditionFailure("checked before freeze()") }
      for i in children.indices { precondition(ch[i] == children[i], "frozen child \(i) differs") }
      for i in leaves.indices {
        precondition(lv[i].kind == leaves[i].kind && lv[i].values == leaves[i].values, "frozen leaf \(i) differs")
      }
      for i in rankTable.indices { precondition(rk[i] == rankTable[i] && pt[i] == presentTable[i], "rank \(i)") }
      for i in fences.indices { precondition(fe[i] == fences[i], "frozen fence \(i) differs") }
      guard let t = blockTable else {
        precondition(wordTable == nil, "word table without a block table")
        return
      }
      var blocks: UInt64 = 0
      forEachLeaf(root, level: rootLevel, block: firstBlock) { ref, b in
        precondition(b >= blockBase && b - blockBase < blockCount, "leaf block \(b) outside the block table")
        let e = t[Int(b - blockBase)]
        let l = leaves[ref.id]
        if e.isDense || e.isV1 {
          precondition(l.kind == (e.isDense ? .dense : .v1) && e.values == l.values, "block \(b) entry differs")
        } else {
          precondition(!e.isNone && e.ref == ref, "block \(b) entry differs")
        }
        if let wt = wordTable {
          for w in 0..<bitmapWords {
            let present = wt[Int(b - blockBase) * bitmapWords + w].present
            switch l.kind {
            case .dense: precondition(present == .max, "word table of a dense leaf")
            case .packed, .wide: precondition(present == presentTable[l.rankBase + w], "word table differs")
            case .v1, .list: precondition(present == 0, "word table entry for a v1 leaf")
            }
          }
        }
        blocks += 1
      }
      var used: UInt64 = 0
      for i in 0..<Int(blockCount) where !t[i].isNone { used += 1 }
      precondition(used == blocks, "block table holds \(used) leaves, the tree \(blocks)")
    }
  }
#else
  extension _ShadowTree {
    /// Checks nothing: KHO_INTERNAL_CHECKS is off.
    @inline(__always)
    func _checkInvariants() {}
  }
#endif

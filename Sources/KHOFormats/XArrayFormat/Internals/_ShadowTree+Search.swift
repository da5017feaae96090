// SPDX-License-Identifier: Apache-2.0
import XArray

// Ordered searches: the first entry at or after a key and the last at or
// before it, optionally carrying a mark. The mark is resolved once per
// search into a `_MarkFilter`.
//
// `next` and `previous` mirror each other but stay two functions: their
// leaf steps differ (an entry that starts before the key is found going
// down, and may have to be skipped going up), and a shared walk generic
// over the direction is only as fast when specialized, which unoptimized
// builds do not do. What they share is `_MarkFilter`, `entry(_:_:head:)`
// and `matching(_:_:)`.

extension _ShadowTree {
  /// The first entry with an index >= `a` (with `mark`, if given).
  func next(from a: UInt64, mark: XArrayMark?) -> _ShadowEntry? {
    let cb = coverBits(rootLevel)
    var start = a
    if cb < 64 {
      let p = a >> UInt64(cb)
      if p > rootPrefix { return nil }
      if p < rootPrefix { start = rootPrefix << UInt64(cb) }
    }
    return next(root, level: rootLevel, start, _MarkFilter(mark))
  }

  /// The last entry with an index <= `a` (with `mark`, if given).
  func previous(through a: UInt64, mark: XArrayMark?) -> _ShadowEntry? {
    let cb = coverBits(rootLevel)
    var start = a
    if cb < 64 {
      let p = a >> UInt64(cb)
      if p < rootPrefix { return nil }
      if p > rootPrefix { start = (rootPrefix << UInt64(cb)) | ((1 << UInt64(cb)) &- 1) }
    }
    return previous(root, level: rootLevel, start, _MarkFilter(mark))
  }

  /// `e` if it passes `f`.
  @inline(__always) func matching(_ e: _ShadowEntry, _ f: _MarkFilter) -> _ShadowEntry? {
    f.accepts(e.marks) ? e : nil
  }

  /// Where key `a` falls in a node at `level`: the slot it selects, the
  /// bits below a slot, and the first key the node covers.
  struct _NodeStep {
    let slotBits: Int
    let slot: Int
    let base: UInt64

    @inline(__always) init(_ t: _ShadowTree, level: Int, _ a: UInt64) {
      slotBits = t.slotBits(level)
      slot = Int(truncatingIfNeeded: (a >> UInt64(slotBits)) & UInt64((1 << t.nodeBits) - 1))
      let cover = t.coverBits(level)
      base = cover >= 64 ? 0 : a & ~((1 << UInt64(cover)) &- 1)
    }
  }

  /// The child in slot `j` of node `id` when a search should enter it: not
  /// empty, not the range it just left (a range fills several slots), and
  /// carrying the mark `f` asks for.
  @inline(__always)
  private func child(_ id: Int, _ j: Int, _ f: _MarkFilter, _ lastRange: inout _ShadowRef) -> _ShadowRef? {
    let slot = (id << nodeBits) | j
    let c = children[slot]
    if c.isEmpty || c == lastRange || !f.accepts(slotMarks[slot]) { return nil }
    if c.isRange { lastRange = c }
    return c
  }

  private func next(_ ref: _ShadowRef, level: Int, _ a: UInt64, _ f: _MarkFilter) -> _ShadowEntry? {
    let id = ref.id
    switch ref.kind {
    case .node:
      let step = _NodeStep(self, level: level, a)
      var lastRange = _ShadowRef.empty
      for j in step.slot..<(1 << nodeBits) {
        if step.slotBits < 64 && j > 0 && UInt64(j) > (UInt64.max >> UInt64(step.slotBits)) { break }
        guard let c = child(id, j, f, &lastRange) else { continue }
        let start = j == step.slot ? a : step.base | (UInt64(j) << UInt64(step.slotBits))
        if let h = next(c, level: level - 1, start, f) { return h }
      }
      return nil
    case .leaf:
      let l = leaves[id]
      if l.kind == .list { return listNext(l, a, f) }
      let base = a & ~((1 << UInt64(leafBits)) &- 1)
      let i = Int(truncatingIfNeeded: a & ((1 << UInt64(leafBits)) &- 1))
      if let h = head(l, covering: i), h < i, let e = matching(entry(l, base, head: h), f) { return e }
      guard let h = nextHead(l, from: i, f) else { return nil }
      return entry(l, base, head: h)
    case .range:
      let r = ranges[id]
      guard r.last >= a else { return nil }
      return matching(r, f)
    case .empty:
      return nil
    }
  }

  private func previous(_ ref: _ShadowRef, level: Int, _ a: UInt64, _ f: _MarkFilter) -> _ShadowEntry? {
    let id = ref.id
    switch ref.kind {
    case .node:
      let step = _NodeStep(self, level: level, a)
      let sb = UInt64(step.slotBits)
      var lastRange = _ShadowRef.empty
      for j in stride(from: step.slot, through: 0, by: -1) {
        guard let c = child(id, j, f, &lastRange) else { continue }
        let start = j == step.slot ? a : step.base | (UInt64(j) << sb) | ((1 << sb) &- 1)
        if let h = previous(c, level: level - 1, start, f) { return h }
      }
      return nil
    case .leaf:
      let l = leaves[id]
      if l.kind == .list { return listPrevious(l, a, f) }
      let base = a & ~((1 << UInt64(leafBits)) &- 1)
      let i = Int(truncatingIfNeeded: a & ((1 << UInt64(leafBits)) &- 1))
      if let h = head(l, covering: i) {
        if let e = matching(entry(l, base, head: h), f) { return e }
        if h == 0 { return nil }
        guard let p = previousHead(l, through: h - 1, f) else { return nil }
        return entry(l, base, head: p)
      }
      guard let h = previousHead(l, through: i, f) else { return nil }
      return entry(l, base, head: h)
    case .range:
      let r = ranges[id]
      guard r.first <= a else { return nil }
      return matching(r, f)
    case .empty:
      return nil
    }
  }

  /// The first head at or after `i` in leaf `l` that passes `f`.
  func nextHead(_ l: _LeafInfo, from i: Int, _ f: _MarkFilter) -> Int? {
    let n = 1 << leafBits
    switch l.kind {
    case .v1:
      if !f.isAny { return nil }
      var j = i
      while j < n {
        if load(l.values, j * 8) != 0 { return j }
        j += 1
      }
      return nil
    case .dense:
      return !f.isAny || i >= n ? nil : i
    case .list:
      return nil
    case .packed, .wide:
      guard let m = l.meta else { return nil }
      let table = f.table
      var w = i >> 6
      var word = load(m, (table * bitmapWords + w) * 8) & ~((1 << UInt64(i & 63)) &- 1)
      while true {
        if word != 0 { return w * 64 + word.trailingZeroBitCount }
        w += 1
        if w >= bitmapWords { return nil }
        word = load(m, (table * bitmapWords + w) * 8)
      }
    }
  }

  /// The last head at or before `i` in leaf `l` that passes `f`.
  func previousHead(_ l: _LeafInfo, through i: Int, _ f: _MarkFilter) -> Int? {
    switch l.kind {
    case .v1:
      if !f.isAny { return nil }
      var j = i
      while j >= 0 {
        if load(l.values, j * 8) != 0 { return j }
        j -= 1
      }
      return nil
    case .dense:
      return !f.isAny ? nil : i
    case .list:
      return nil
    case .packed, .wide:
      guard let m = l.meta else { return nil }
      let table = f.table
      var w = i >> 6
      let keep: UInt64 = i & 63 == 63 ? .max : (1 << UInt64((i & 63) + 1)) &- 1
      var word = load(m, (table * bitmapWords + w) * 8) & keep
      while true {
        if word != 0 { return w * 64 + 63 - word.leadingZeroBitCount }
        w -= 1
        if w < 0 { return nil }
        word = load(m, (table * bitmapWords + w) * 8)
      }
    }
  }
}

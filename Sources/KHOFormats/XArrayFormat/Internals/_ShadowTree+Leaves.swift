// SPDX-License-Identifier: Apache-2.0

// Reading one leaf block in place (v1, dense, packed and wide leaves; list
// leaves are in _ShadowTree+Lists.swift): heads, extents, values, marks.

extension _ShadowTree {
  /// Bit `i` of bitmap `table` of the bitmaps at `m`.
  @inline(__always) func bit(_ m: UnsafeRawPointer, _ table: Int, _ i: Int) -> Bool {
    (load(m, (table * bitmapWords + (i >> 6)) * 8) >> UInt64(i & 63)) & 1 != 0
  }

  /// The value of the entry whose head is at `head` in leaf `l`.
  @inline(__always) func value(_ l: _LeafInfo, head: Int) -> UInt64 {
    switch l.kind {
    case .v1, .dense, .wide, .list:
      return load(l.values, head * 8)
    case .packed:
      guard let m = l.meta else { return 0 }
      let w = head >> 6
      let word = load(m, w * 8)
      let rank = Int(rankTable[l.rankBase + w]) + (word & ((1 << UInt64(head & 63)) &- 1)).nonzeroBitCount
      return load(l.values, rank * 8)
    }
  }

  /// Whether an entry starts at `i`.
  @inline(__always) func isHead(_ l: _LeafInfo, _ i: Int) -> Bool {
    switch l.kind {
    case .v1: return load(l.values, i * 8) != 0
    case .dense: return true
    case .list: return false
    case .packed, .wide:
      guard let m = l.meta else { return false }
      return bit(m, 0, i)
    }
  }

  /// The head of the entry covering `i`, if any.
  func head(_ l: _LeafInfo, covering i: Int) -> Int? {
    if isHead(l, i) { return i }
    guard let m = l.meta, bit(m, 1, i) else { return nil }
    var h = i
    while h > 0 {
      h -= 1
      if bit(m, 0, h) { return h }
    }
    return nil
  }

  /// The last key of the entry whose head is `h`.
  func end(_ l: _LeafInfo, head h: Int) -> Int {
    guard let m = l.meta else { return h }
    var e = h
    while e + 1 < (1 << leafBits) && bit(m, 1, e + 1) { e += 1 }
    return e
  }

  /// The marks of the entry whose head is `h`.
  func marks(_ l: _LeafInfo, head h: Int) -> UInt8 {
    guard let m = l.meta else { return 0 }
    var r: UInt8 = 0
    for k in 0..<3 where bit(m, 2 + k, h) { r |= 1 << UInt8(k) }
    return r
  }

  /// The entry whose head is `h` in leaf `l` of the block starting at `base`.
  func entry(_ l: _LeafInfo, _ base: UInt64, head h: Int) -> _ShadowEntry {
    _ShadowEntry(
      first: base | UInt64(h), last: base | UInt64(end(l, head: h)), value: value(l, head: h),
      marks: marks(l, head: h))
  }
}

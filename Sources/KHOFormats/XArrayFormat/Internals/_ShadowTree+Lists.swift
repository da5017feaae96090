// SPDX-License-Identifier: Apache-2.0
// Searching the list leaves of kho-xarray-v2 in place: sorted indices,
// with the shadow tree's in-memory fences (every `_listRun`-th index) as
// the first step. The lookups (_ShadowTree+Lookup.swift) and searches
// (_ShadowTree+Search.swift) call these for a leaf of kind `.list`.

extension _ShadowTree {
  /// The first position of list `l` whose index is not below `key`.
  func listLowerBound(_ l: _LeafInfo, _ key: UInt64) -> Int {
    guard let k = l.keys else { return 0 }
    var lo = 0
    var hi = l.count
    if let f = frozenFences, hi > _listRun {
      // The last run whose first index is not above `key` holds the answer
      // (or the answer is that run's end, the next run's first position).
      var a = 0
      var b = (hi + _listRun - 1) / _listRun
      while b - a > 1 {
        let mid = (a + b) >> 1
        if f[l.fenceBase + mid] <= key { a = mid } else { b = mid }
      }
      lo = a * _listRun
      hi = Swift.min(hi, lo + _listRun)
      if f[l.fenceBase + a] > key { return 0 }
    }
    while lo < hi {
      let mid = (lo + hi) >> 1
      if load(k, mid &* l.step) < key { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  /// Whether entry `i` of list `l` carries mark number `mk` (0...2).
  @inline(__always) func listHasMark(_ l: _LeafInfo, _ i: Int, _ mk: Int) -> Bool {
    guard let m = l.meta else { return false }
    let words = (l.count + 63) / 64
    return (load(m, (mk * words + (i >> 6)) * 8) >> UInt64(i & 63)) & 1 != 0
  }

  /// Whether entry `i` of list `l` passes `f`.
  @inline(__always) func listMarked(_ l: _LeafInfo, _ i: Int, _ f: _MarkFilter) -> Bool {
    f.isAny || listHasMark(l, i, f.mark)
  }

  /// Entry `i` of list `l`.
  func listEntry(_ l: _LeafInfo, _ i: Int) -> _ShadowEntry {
    let key = l.keys.map { load($0, i * l.step) } ?? 0
    var m: UInt8 = 0
    for k in 0..<3 where listHasMark(l, i, k) { m |= 1 << UInt8(k) }
    return _ShadowEntry(first: key, last: key, value: load(l.values, i * l.step), marks: m)
  }

  /// The position of `key` in list `l`, if it is there.
  func listPosition(_ l: _LeafInfo, _ key: UInt64) -> Int? {
    let i = listLowerBound(l, key)
    guard i < l.count, let k = l.keys, load(k, i &* l.step) == key else { return nil }
    return i
  }

  /// The first entry of list `l` at or after `a` that passes `f`.
  func listNext(_ l: _LeafInfo, _ a: UInt64, _ f: _MarkFilter) -> _ShadowEntry? {
    var i = listLowerBound(l, a)
    while i < l.count {
      if listMarked(l, i, f) { return listEntry(l, i) }
      i += 1
    }
    return nil
  }

  /// The last entry of list `l` at or before `a` that passes `f`.
  func listPrevious(_ l: _LeafInfo, _ a: UInt64, _ f: _MarkFilter) -> _ShadowEntry? {
    var i = a == .max ? l.count - 1 : listLowerBound(l, a + 1) - 1
    while i >= 0 {
      if listMarked(l, i, f) { return listEntry(l, i) }
      i -= 1
    }
    return nil
  }
}

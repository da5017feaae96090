// SPDX-License-Identifier: Apache-2.0

// Invariant checks, compiled in only when KHO_INTERNAL_CHECKS is defined
// (`KHO_INTERNAL_CHECKS=1 swift test`; see Package.swift). Otherwise both
// functions are empty and inline away. Whole-set operations (decoding, set
// algebra, bulk insertion) call `_checkInvariants()`; single entries and
// page ranges call `_checkInvariantsAfterEntry()`, which checks only small
// sets, so that building a large set entry by entry stays linear.

#if KHO_INTERNAL_CHECKS
  extension PreservedSet {
    /// Traps if a structural invariant is broken: one bitmap per order, and
    /// in each the chunk index sorted, every chunk slot either in use and
    /// non-empty or free and zero, `count` equal to the bits set, and the
    /// direct map in step with the index.
    @usableFromInline @inline(never)
    func _checkInvariants() {
      precondition(
        _orders.count == 64 - geometry.pageShift, "\(_orders.count) orders for \(geometry.pageSize)-byte pages")
      for o in _orders.indices { _orders[o]._checkInvariants(order: o, wordsPerChunk: wordsPerChunk) }
    }

    /// `_checkInvariants()` while the set is small (2^14 words of chunks and
    /// direct maps at most), for the mutations of one entry or range.
    @usableFromInline @inline(never)
    func _checkInvariantsAfterEntry() {
      let size = _orders.reduce(0) { $0 + $1.words.count + $1.direct.count + $1.keys.count }
      if size <= 1 << 14 { _checkInvariants() }
    }
  }

  extension _OrderBitmap {
    /// Traps if a structural invariant of the bitmap of `order` is broken.
    func _checkInvariants(order: Int, wordsPerChunk w: Int) {
      precondition(keys.count == slots.count, "order \(order): \(keys.count) chunks, \(slots.count) slots")
      precondition(words.count % w == 0, "order \(order): \(words.count) words, not whole chunks")
      let chunks = words.count / w
      // 1: in use, 2: free.
      var state = [UInt8](repeating: 0, count: chunks)
      for (i, s) in slots.enumerated() {
        precondition(s >= 0 && s < chunks && state[s] == 0, "order \(order): slot \(s) used twice or outside")
        state[s] = 1
        if i > 0 { precondition(keys[i - 1] < keys[i], "order \(order): chunk numbers not ascending at \(i)") }
      }
      for s in freeSlots {
        precondition(s >= 0 && s < chunks && state[s] == 0, "order \(order): free slot \(s) in use or outside")
        state[s] = 2
      }
      var bits = 0
      for s in 0..<chunks {
        precondition(state[s] != 0, "order \(order): slot \(s) neither in use nor free")
        var any: UInt64 = 0
        for k in s * w..<(s + 1) * w {
          any |= words[k]
          bits += words[k].nonzeroBitCount
        }
        precondition(state[s] == 1 ? any != 0 : any == 0, "order \(order): slot \(s) empty in use, or free with bits")
      }
      precondition(bits == count, "order \(order): count \(count) but \(bits) bits set")
      precondition(direct.count <= Self.directLimit, "order \(order): direct map of \(direct.count)")
      var expected = [Int32](repeating: 0, count: direct.count)
      for (k, s) in zip(keys, slots) where k < UInt64(direct.count) { expected[Int(k)] = Int32(s + 1) }
      precondition(direct == expected, "order \(order): direct map out of step with the chunk index")
    }
  }
#else
  extension PreservedSet {
    /// Checks nothing: KHO_INTERNAL_CHECKS is off.
    @inlinable @inline(__always)
    func _checkInvariants() {}

    /// Checks nothing: KHO_INTERNAL_CHECKS is off.
    @inlinable @inline(__always)
    func _checkInvariantsAfterEntry() {}
  }
#endif

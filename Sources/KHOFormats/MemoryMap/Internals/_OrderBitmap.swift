// SPDX-License-Identifier: Apache-2.0
import CPrefetch
import KHOCore

// The storage of one order of a PreservedSet, and the one place in the
// memory-map code that touches words through unsafe buffer pointers.
//
// A chunk is one page worth of bits (`2^chunkShift` bits, chunkShift =
// pageShift + 3), covering the naturally aligned run of 2^chunkShift
// order-normalised page numbers (pfn >> order). That is exactly the span of
// one radix leaf and of one kho-v1 bitmap page, so both codecs move whole
// chunks with word copies.

/// The chunks of one order: a sorted index of chunk numbers pointing into one
/// flat, growable array of words.
@usableFromInline
struct _OrderBitmap: Sendable {
  /// Chunk numbers (`(pfn >> order) >> chunkShift`), strictly ascending.
  @usableFromInline var keys: [UInt64] = []
  /// `slots[i]` is where the words of chunk `keys[i]` start, in chunks.
  @usableFromInline var slots: [Int] = []
  /// The bits: chunk slot `s` is `words[s * w ..< (s + 1) * w]`.
  @usableFromInline var words: [UInt64] = []
  /// Slots freed by removals, all-zero, ready for reuse.
  @usableFromInline var freeSlots: [Int] = []
  /// The number of set bits.
  @usableFromInline var count: Int = 0
  /// The position in `keys` of the chunk touched last (a hint).
  @usableFromInline var hint: Int = 0
  /// Direct map for low chunk numbers: `direct[c]` is chunk `c`'s slot + 1,
  /// 0 when absent; chunks at or above `direct.count` are looked up by
  /// binary search. Spares random inserts and lookups the search.
  @usableFromInline var direct: [Int32] = []

  /// Chunks below this number are direct-mapped (at most 256 KiB per order).
  @usableFromInline static var directLimit: Int { 1 << 16 }

  /// The slot of chunk `c` from the direct map: `nil` when the map does not
  /// cover `c`, -1 when it says absent.
  @inlinable
  func directSlot(_ c: UInt64) -> Int? {
    guard c < UInt64(direct.count) else { return nil }
    return Int(direct[Int(c)]) - 1
  }

  /// Records chunk `c` at `slot` in the direct map, growing it (rebuilt from
  /// `keys`/`slots`, so chunks added by bulk paths stay known) when needed.
  @inlinable
  mutating func noteChunk(_ c: UInt64, slot: Int) {
    guard c < UInt64(Self.directLimit) else { return }
    if Int(c) >= direct.count {
      let size = Swift.min(Swift.max(Int(c) + 1, direct.count * 2, 64), Self.directLimit)
      var d = [Int32](repeating: 0, count: size)
      for (k, sl) in zip(keys, slots) where k < UInt64(size) { d[Int(k)] = Int32(sl + 1) }
      direct = d
    }
    direct[Int(c)] = Int32(slot + 1)
  }

  /// Forgets chunk `c` in the direct map.
  @inlinable
  mutating func forgetChunk(_ c: UInt64) {
    if c < UInt64(direct.count) { direct[Int(c)] = 0 }
  }

  @inlinable init() {}

  @inlinable var isEmpty: Bool { count == 0 }

  /// The position of chunk `c` in `keys`, or where it would be inserted.
  @inlinable
  func search(_ c: UInt64) -> (found: Bool, position: Int) {
    let n = keys.count
    if hint < n, keys[hint] == c { return (true, hint) }
    if n == 0 || keys[n - 1] < c { return (false, n) }
    var lo = 0
    var hi = n
    while lo < hi {
      let mid = (lo &+ hi) >> 1
      if keys[mid] < c { lo = mid + 1 } else { hi = mid }
    }
    return (lo < n && keys[lo] == c, lo)
  }

  /// The slot of chunk `c`, created (zeroed) if absent.
  @inlinable
  mutating func slotCreating(_ c: UInt64, wordsPerChunk w: Int) -> Int {
    if let d = directSlot(c), d >= 0 { return d }
    let (found, pos) = search(c)
    if found {
      hint = pos
      return slots[pos]
    }
    let slot: Int
    if let s = freeSlots.popLast() {
      slot = s
    } else {
      slot = words.count / w
      words.append(contentsOf: repeatElement(0, count: w))
    }
    keys.insert(c, at: pos)
    slots.insert(slot, at: pos)
    hint = pos
    noteChunk(c, slot: slot)
    return slot
  }

  /// ``slotCreating(_:wordsPerChunk:)``, kept out of the callers' loops.
  @inlinable @inline(never)
  mutating func slotCreatingOutOfLine(_ c: UInt64, wordsPerChunk w: Int) -> Int {
    slotCreating(c, wordsPerChunk: w)
  }

  /// Makes room for `n` more chunks without reallocating.
  @inlinable
  mutating func reserve(chunks n: Int, wordsPerChunk w: Int) {
    keys.reserveCapacity(keys.count + n)
    slots.reserveCapacity(slots.count + n)
    words.reserveCapacity(words.count + n * w)
  }

  /// Sets bit `j` (an order-normalised page number); returns whether it was new.
  ///
  /// Inlined into the caller's loop, with only a chunk that is present and
  /// direct-mapped on the inline path: the kernel preserves one folio per
  /// call, and at a call per page every instruction and call here costs
  /// (the reorder window holds fewer inserts, so fewer cache misses
  /// overlap). A chunk that must be found or created goes out of line.
  @inlinable @inline(__always)
  mutating func insert(_ j: UInt64, chunkShift: Int, wordsPerChunk w: Int) -> Bool {
    let c = j &>> UInt64(chunkShift)
    let bit = Int(truncatingIfNeeded: j) & ((1 &<< chunkShift) &- 1)
    var slot = -1
    if c < UInt64(direct.count) { slot = Int(direct[Int(c)]) &- 1 }
    if slot < 0 { slot = slotCreatingOutOfLine(c, wordsPerChunk: w) }
    let wi = slot &* w &+ bit &>> 6
    let mask: UInt64 = 1 &<< UInt64(bit & 63)
    // Branch-free on the loaded word, so the CPU keeps several cache
    // misses in flight when pages arrive in random order.
    let old = words[wi]
    words[wi] = old | mask
    let added = Int(truncatingIfNeeded: ((old & mask) >> UInt64(bit & 63)) ^ 1)
    count &+= added
    return added != 0
  }

  /// Sets the bits of the page frames `pfns` (each shifted right by
  /// `order`), stopping before the first frame that has a bit of `invalid`
  /// set; returns how many frames were consumed and how many bits were new.
  ///
  /// The bulk form of ``insert(_:chunkShift:wordsPerChunk:)``. Frames whose
  /// chunk is direct-mapped and present go through a two-step loop over
  /// groups of ``groupSize``: first the word of every frame in the group is
  /// located and prefetched (so the cache misses of the group overlap),
  /// then the bits are set. The others take the single-bit path, which
  /// creates their chunk, and the loop resumes.
  @inlinable
  mutating func insert(
    all pfns: UnsafeBufferPointer<UInt64>, order: Int, invalid: UInt64,
    chunkShift: Int, wordsPerChunk w: Int
  ) -> (consumed: Int, added: Int) {
    let bitMask = (1 << chunkShift) - 1
    let shift = UInt64(chunkShift)
    let orderShift = UInt64(order)
    var i = 0
    var added = 0
    withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.groupSize) { pending in
      while i < pfns.count {
        var fresh = 0
        direct.withUnsafeBufferPointer { d in
          words.withUnsafeMutableBufferPointer { buf in
            while i < pfns.count {
              // Step 1: locate (word index, bit) for up to groupSize frames
              // and prefetch each word. Masking shifts (`&>>`, `&<<`): every
              // amount is below 64, and the loop stays short.
              var n = 0
              while n < Self.groupSize, i &+ n < pfns.count {
                let p = pfns[i &+ n]
                guard p & invalid == 0 else { break }
                let j = p &>> orderShift
                let c = j &>> shift
                guard c < UInt64(d.count) else { break }
                let slot = Int(d[Int(c)]) &- 1
                guard slot >= 0 else { break }
                let bit = Int(truncatingIfNeeded: j) & bitMask
                let wi = slot &* w &+ bit &>> 6
                kho_prefetch_for_write(buf.baseAddress.map { UnsafeRawPointer($0 + wi) })
                pending[n] = wi &<< 6 | bit & 63
                n &+= 1
              }
              // Step 2: set the bits; the words are in cache or on their way.
              for k in 0..<n {
                let wi = pending[k] &>> 6
                let b = UInt64(truncatingIfNeeded: pending[k] & 63)
                let old = buf[wi]
                buf[wi] = old | 1 &<< b
                fresh &+= Int(truncatingIfNeeded: (old &>> b) & 1 ^ 1)
              }
              i &+= n
              if n < Self.groupSize { break }
            }
          }
        }
        count &+= fresh
        added &+= fresh
        guard i < pfns.count, pfns[i] & invalid == 0 else { break }
        if insert(pfns[i] &>> orderShift, chunkShift: chunkShift, wordsPerChunk: w) { added &+= 1 }
        i &+= 1
      }
    }
    return (i, added)
  }

  /// Frames located and prefetched together by ``insert(all:order:invalid:chunkShift:wordsPerChunk:)``.
  @inlinable static var groupSize: Int { 16 }

  /// Whether bit `j` is set.
  @inlinable
  func contains(_ j: UInt64, chunkShift: Int, wordsPerChunk w: Int) -> Bool {
    if let d = directSlot(j >> UInt64(chunkShift)) {
      guard d >= 0 else { return false }
      let bit = Int(truncatingIfNeeded: j) & ((1 << chunkShift) - 1)
      return words[d * w + bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }
    let (found, pos) = search(j >> UInt64(chunkShift))
    guard found else { return false }
    let bit = Int(truncatingIfNeeded: j) & ((1 << chunkShift) - 1)
    return words[slots[pos] * w + bit >> 6] & (1 << UInt64(bit & 63)) != 0
  }

  /// Clears bit `j`; returns whether it was set. Drops a chunk that empties.
  @inlinable
  mutating func remove(_ j: UInt64, chunkShift: Int, wordsPerChunk w: Int) -> Bool {
    let (found, pos) = search(j >> UInt64(chunkShift))
    guard found else { return false }
    let bit = Int(truncatingIfNeeded: j) & ((1 << chunkShift) - 1)
    let slot = slots[pos]
    let wi = slot * w + bit >> 6
    let mask: UInt64 = 1 << UInt64(bit & 63)
    let old = words[wi]
    if old & mask == 0 { return false }
    words[wi] = old & ~mask
    count -= 1
    if old == mask, isChunkEmpty(slot: slot, wordsPerChunk: w) {
      forgetChunk(keys[pos])
      keys.remove(at: pos)
      slots.remove(at: pos)
      freeSlots.append(slot)
      hint = 0
    }
    return true
  }

  @inlinable
  func isChunkEmpty(slot: Int, wordsPerChunk w: Int) -> Bool {
    words.withUnsafeBufferPointer { buf in
      var any: UInt64 = 0
      for i in slot * w..<(slot + 1) * w { any |= buf[i] }
      return any == 0
    }
  }

  /// ORs `source` (exactly `w` words) into chunk `c`; returns the number of
  /// bits that were new. An all-zero source creates no chunk.
  @inlinable
  mutating func orChunk(
    _ c: UInt64, _ source: UnsafeBufferPointer<UInt64>, wordsPerChunk w: Int
  ) -> Int {
    var any: UInt64 = 0
    for x in source { any |= x }
    if any == 0 { return 0 }
    let slot = slotCreating(c, wordsPerChunk: w)
    let added = words.withUnsafeMutableBufferPointer { buf in
      var added = 0
      let base = slot * w
      for i in 0..<w {
        let old = buf[base + i]
        let new = old | source[i]
        added += (new ^ old).nonzeroBitCount
        buf[base + i] = new
      }
      return added
    }
    count += added
    return added
  }

  /// ORs the first `w` native words of `bytes` (in `order`) into chunk `c`
  /// in one pass; returns the number of bits that were new. A chunk created
  /// here that ends up empty is dropped again.
  @inlinable
  mutating func orChunk(
    _ c: UInt64, loading bytes: Bytes, _ order: ByteOrder, wordsPerChunk w: Int
  ) -> Int {
    let (existed, _) = search(c)
    let slot = slotCreating(c, wordsPerChunk: w)
    let added: Int = bytes.withWords(order) { loads in
      let n = Swift.min(w, loads.wordCount)
      return words.withUnsafeMutableBufferPointer { buf in
        let base = slot * w
        var added = 0
        for i in 0..<n {
          let x = loads.word(i)
          let old = buf[base &+ i]
          buf[base &+ i] = old | x
          added &+= (x & ~old).nonzeroBitCount
        }
        return added
      }
    }
    count += added
    if !existed && added == 0 {
      let (_, pos) = search(c)
      forgetChunk(c)
      keys.remove(at: pos)
      slots.remove(at: pos)
      freeSlots.append(slot)
      hint = 0
    }
    return added
  }

  /// ORs `bits` into word `jw` of the order (bits `jw*64 ..< jw*64+64`).
  @inlinable
  mutating func orWord(_ jw: UInt64, _ bits: UInt64, chunkShift: Int, wordsPerChunk w: Int) -> Int {
    if bits == 0 { return 0 }
    let c = jw >> UInt64(chunkShift - 6)
    let slot = slotCreating(c, wordsPerChunk: w)
    let wi = slot * w + Int(truncatingIfNeeded: jw) & (w - 1)
    let old = words[wi]
    let added = (bits & ~old).nonzeroBitCount
    words[wi] = old | bits
    count += added
    return added
  }

  /// Calls `body` with every chunk in ascending order: its number and words.
  @inlinable
  func forEachChunk(
    wordsPerChunk w: Int, _ body: (UInt64, UnsafeBufferPointer<UInt64>) throws -> Void
  ) rethrows {
    try words.withUnsafeBufferPointer { buf in
      for (i, c) in keys.enumerated() {
        let start = slots[i] * w
        try body(c, UnsafeBufferPointer(rebasing: buf[start..<start + w]))
      }
    }
  }

  /// The words of the chunk at position `i` of `keys`.
  @inlinable
  func withChunk<R>(at i: Int, wordsPerChunk w: Int, _ body: (UnsafeBufferPointer<UInt64>) -> R) -> R {
    words.withUnsafeBufferPointer { buf in
      let start = slots[i] * w
      return body(UnsafeBufferPointer(rebasing: buf[start..<start + w]))
    }
  }

  /// Builds a compact copy from chunks produced in ascending order.
  @inlinable
  static func combining(
    _ a: _OrderBitmap, _ b: _OrderBitmap, wordsPerChunk w: Int,
    keepA: Bool, keepB: Bool, _ op: (UInt64, UInt64) -> UInt64
  ) -> _OrderBitmap {
    var out = _OrderBitmap()
    var scratch = [UInt64](repeating: 0, count: w)
    let zero = [UInt64](repeating: 0, count: w)
    var i = 0
    var j = 0
    a.words.withUnsafeBufferPointer { wa in
      b.words.withUnsafeBufferPointer { wb in
        zero.withUnsafeBufferPointer { wz in
          while i < a.keys.count || j < b.keys.count {
            let ka = i < a.keys.count ? a.keys[i] : UInt64.max
            let kb = j < b.keys.count ? b.keys[j] : UInt64.max
            let key = Swift.min(ka, kb)
            let takeA = ka == key && i < a.keys.count
            let takeB = kb == key && j < b.keys.count
            if takeA && !takeB && !keepA { i += 1; continue }
            if takeB && !takeA && !keepB { j += 1; continue }
            let pa = takeA ? UnsafeBufferPointer(rebasing: wa[a.slots[i] * w..<a.slots[i] * w + w]) : wz
            let pb = takeB ? UnsafeBufferPointer(rebasing: wb[b.slots[j] * w..<b.slots[j] * w + w]) : wz
            var any: UInt64 = 0
            var bits = 0
            for k in 0..<w {
              let x = op(pa[k], pb[k])
              scratch[k] = x
              any |= x
              bits += x.nonzeroBitCount
            }
            if any != 0 {
              out.keys.append(key)
              out.slots.append(out.slots.count)
              out.words.append(contentsOf: scratch)
              out.count += bits
            }
            if takeA { i += 1 }
            if takeB { j += 1 }
          }
        }
      }
    }
    return out
  }

  /// Whether both hold the same bits (slot layout aside).
  @inlinable
  func sameBits(as other: _OrderBitmap, wordsPerChunk w: Int) -> Bool {
    guard count == other.count, keys == other.keys else { return false }
    return words.withUnsafeBufferPointer { wa in
      other.words.withUnsafeBufferPointer { wb in
        for i in 0..<keys.count {
          let sa = slots[i] * w
          let sb = other.slots[i] * w
          for k in 0..<w where wa[sa + k] != wb[sb + k] { return false }
        }
        return true
      }
    }
  }

  /// Bytes of heap memory held (capacity, not count).
  var memoryBytes: Int {
    (keys.capacity + slots.capacity + words.capacity + freeSlots.capacity) * 8 + direct.capacity * 4
  }
}

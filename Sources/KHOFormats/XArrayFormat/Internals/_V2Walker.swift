// SPDX-License-Identifier: Apache-2.0
import KHOCore

// The validating walk that `KHOXArrayV2View` runs when it opens: every
// slot, page and leaf is checked, then indexed into the shadow tree.

/// The validating walk that opens a v2 structure.
struct _V2Walker {
  let s: _ShadowTree
  let memory: any PhysicalMemory
  let verify: Bool
  var visited: Set<UInt64>
  var maxIndex: UInt64?
  var marks: UInt8
  var ranges: Bool
  var lists: Bool
  /// The list leaves' layout, from the header's flags.
  let listLayout: KHOXArrayV2.ListLayout

  /// Reads the 16-byte slot at `off` of `r`.
  func slot(_ r: ByteReader, at off: Int, path: DecodePath, address: PhysAddr) throws(DecodeError)
    -> _V2Slot
  {
    let kindByte: UInt8 = try r.integer(at: off + 12)
    guard let kind = KHOXArrayV2.SlotKind(rawValue: kindByte) else {
      throw DecodeError(.unsupported, "unknown slot kind \(kindByte)", path: path, address: address)
    }
    let reserved: UInt8 = try r.integer(at: off + 15)
    guard reserved == 0 else {
      throw DecodeError(.unsupported, "non-zero reserved slot byte", path: path, address: address)
    }
    let s = _V2Slot(
      word: try r.integer(at: off), crc: try r.integer(at: off + 8), kind: kind,
      marks: try r.integer(at: off + 13), order: try r.integer(at: off + 14))
    guard s.marks & ~7 == 0 else {
      throw DecodeError(.outOfRange, "mark bits 0x\(String(s.marks, radix: 16))", path: path, address: address)
    }
    switch kind {
    case .empty, .sibling:
      guard s.word == 0, s.crc == 0, s.marks == 0, s.order == 0 else {
        throw DecodeError(.inconsistent, "\(kind) slot with non-zero fields", path: path, address: address)
      }
    case .range:
      guard s.crc == 0 else {
        throw DecodeError(.inconsistent, "range slot with a checksum", path: path, address: address)
      }
    default:
      guard s.order == 0 else {
        throw DecodeError(.inconsistent, "pointer slot with an order", path: path, address: address)
      }
    }
    return s
  }

  /// Fetches `pages` pages at `word`, checking alignment, capture,
  /// uniqueness and the CRC.
  mutating func pages(_ sl: _V2Slot, count pages: Int, path: DecodePath) throws(DecodeError) -> Bytes {
    let g = memory.geometry
    let addr = PhysAddr(sl.word)
    guard addr.isPageAligned(g), !addr.isZero else {
      throw DecodeError(.misaligned, "\(sl.kind) pointer \(addr) is not a page address", path: path, address: addr)
    }
    for k in 0..<UInt64(pages) {
      guard visited.insert(sl.word &+ k << UInt64(g.pageShift)).inserted else {
        throw DecodeError(
          .cycle, "page \(addr) is reached twice (a cycle or a shared subtree)", path: path, address: addr)
      }
    }
    guard visited.count <= 1 << 28 else {
      throw DecodeError(.limitExceeded, "more than 2^28 pages", path: path, address: addr)
    }
    let b = try memory.bytes(at: addr, count: pages * g.pageSize, path: path)
    if verify {
      let crc = b.withUnsafeBytes { CRC32C.checksum($0) }
      guard crc == sl.crc else {
        throw DecodeError(
          .inconsistent,
          "checksum of \(sl.kind) page(s) at \(addr) is 0x\(String(crc, radix: 16)), the slot says 0x\(String(sl.crc, radix: 16)): page corrupted",
          path: path, address: addr)
      }
    }
    return b
  }

  mutating func note(_ first: UInt64, _ last: UInt64, _ m: UInt8, range: Bool) {
    maxIndex = Swift.max(maxIndex ?? 0, last)
    marks |= m
    if range { ranges = true }
    s.count += 1
    _ = first
  }

  /// Validates and indexes what slot `sl` points to at `level` (the block
  /// starting at `base`).
  mutating func child(_ sl: _V2Slot, level: Int, base: UInt64, path: DecodePath) throws(DecodeError)
    -> _ShadowRef
  {
    let g = memory.geometry
    switch sl.kind {
    case .empty:
      return .empty
    case .sibling:
      throw DecodeError(.inconsistent, "sibling slot with no range before it", path: path)
    case .range:
      let cover = s.coverBits(level)
      guard Int(sl.order) >= Swift.min(cover, 64), sl.order <= 64 else {
        throw DecodeError(.outOfRange, "range of order \(sl.order) in a slot of \(cover) bits", path: path)
      }
      let last = sl.order >= 64 ? UInt64.max : base | ((1 << UInt64(sl.order)) - 1)
      guard s.ranges.count < 1 << 28 else {
        throw DecodeError(.limitExceeded, "more than 2^28 range entries", path: path)
      }
      note(base, last, sl.marks, range: true)
      return s.addRange(_ShadowEntry(first: base, last: last, value: sl.word, marks: sl.marks))
    case .node:
      guard level >= 1 else {
        throw DecodeError(.inconsistent, "interior node where a leaf belongs", path: path, address: PhysAddr(sl.word))
      }
      let page = try pages(sl, count: 1, path: path)
      let r = ByteReader(page, order: g.byteOrder, path: path, base: PhysAddr(sl.word))
      let node = s.addNode()
      let id = node.id
      let sb = s.slotBits(level)
      let fan = 1 << s.nodeBits
      var summary: UInt8 = 0
      var j = 0
      while j < fan {
        let slotAddr = PhysAddr(sl.word + UInt64(j * 16))
        let sp = path.index(j)
        let c = try slot(r, at: j * 16, path: sp, address: slotAddr)
        let reachable = sb >= 64 || j == 0 || UInt64(j) <= UInt64.max >> UInt64(sb)
        if c.kind == .empty {
          j += 1
          continue
        }
        guard reachable else {
          throw DecodeError(.outOfRange, "slot \(j) lies above 2^64", path: sp, address: slotAddr)
        }
        let slotBase = base | (UInt64(j) << UInt64(sb))
        if c.kind == .range {
          let k = Int(c.order)
          guard k >= sb, k < sb + s.nodeBits || k == 64 else {
            throw DecodeError(
              .outOfRange, "range of order \(k) in a slot of \(sb) bits", path: sp, address: slotAddr)
          }
          let n = k - sb >= 62 ? Int.max : 1 << (k - sb)
          guard j % Swift.min(n, 1 << 30) == 0 || (n > fan && j == 0) else {
            throw DecodeError(.misaligned, "range of order \(k) starts at slot \(j)", path: sp, address: slotAddr)
          }
          let last = k >= 64 ? UInt64.max : slotBase | ((1 << UInt64(k)) - 1)
          guard s.ranges.count < 1 << 28 else {
            throw DecodeError(.limitExceeded, "more than 2^28 range entries", path: sp, address: slotAddr)
          }
          note(slotBase, last, c.marks, range: true)
          let ref = s.addRange(_ShadowEntry(first: slotBase, last: last, value: c.word, marks: c.marks))
          var span = 0
          while span < n && j + span < fan {
            if span > 0 {
              let sib = try slot(
                r, at: (j + span) * 16, path: path.index(j + span),
                address: PhysAddr(sl.word + UInt64((j + span) * 16)))
              guard sib.kind == .sibling else {
                throw DecodeError(
                  .inconsistent, "slot \(j + span) should continue the range at slot \(j)",
                  path: path.index(j + span), address: PhysAddr(sl.word + UInt64((j + span) * 16)))
              }
            }
            s.children[(id << s.nodeBits) | (j + span)] = ref
            s.slotMarks[(id << s.nodeBits) | (j + span)] = c.marks
            span += 1
          }
          summary |= c.marks
          j += span
          continue
        }
        if c.kind == .sibling {
          throw DecodeError(.inconsistent, "sibling slot with no range before it", path: sp, address: slotAddr)
        }
        let before = marks
        marks = 0
        let ref = try child(c, level: level - 1, base: slotBase, path: sp)
        let below = marks
        marks = before | below
        guard below == c.marks else {
          throw DecodeError(
            .inconsistent,
            "mark summary 0x\(String(c.marks, radix: 16)) but the subtree has 0x\(String(below, radix: 16))",
            path: sp, address: slotAddr)
        }
        s.children[(id << s.nodeBits) | j] = ref
        s.slotMarks[(id << s.nodeBits) | j] = c.marks
        summary |= below
        j += 1
      }
      _ = summary
      return node
    case .denseLeaf, .packedLeaf, .wideLeaf:
      guard level == 0 else {
        throw DecodeError(
          .inconsistent, "\(sl.kind) at level \(level), where a node belongs", path: path,
          address: PhysAddr(sl.word))
      }
      return try leaf(sl, base: base, path: path)
    case .listLeaf:
      guard level >= 1 else {
        throw DecodeError(
          .inconsistent, "list leaf where a leaf block belongs", path: path, address: PhysAddr(sl.word))
      }
      return try list(sl, level: level, base: base, path: path)
    }
  }

  /// Validates and indexes the list leaf of slot `sl`, which covers the
  /// `coverBits(level)` bits from `base`.
  mutating func list(_ sl: _V2Slot, level: Int, base: UInt64, path: DecodePath) throws(DecodeError)
    -> _ShadowRef
  {
    let g = memory.geometry
    let addr = PhysAddr(sl.word)
    guard addr.isPageAligned(g), !addr.isZero else {
      throw DecodeError(.misaligned, "list leaf pointer \(addr) is not a page address", path: path, address: addr)
    }
    // The page count is in the first page; `pages` then checks them all.
    let head = ByteReader(
      try memory.bytes(at: addr, count: KHOXArrayV2.listHeaderBytes, path: path), order: g.byteOrder,
      path: path, base: addr)
    let count = Int(try head.integer(at: 0, as: UInt32.self))
    let pageCount = Int(try head.integer(at: 4, as: UInt32.self))
    guard try head.integer(at: 8, as: UInt64.self) == 0 else {
      throw head.error(.unsupported, "non-zero reserved list field", at: 8)
    }
    guard (1...KHOXArrayV2.maxListPages).contains(pageCount) else {
      throw head.error(.outOfRange, "list leaf of \(pageCount) pages (1...\(KHOXArrayV2.maxListPages))", at: 4)
    }
    guard count >= 1, KHOXArrayV2.listPages(count: count, g) == pageCount else {
      throw head.error(
        .badCount, "\(count) entries do not fill a list leaf of \(pageCount) pages", at: 0)
    }
    let all = try pages(sl, count: pageCount, path: path)
    let r = ByteReader(all, order: g.byteOrder, path: path, base: addr)
    let words = (count + 63) / 64
    let (keysAt, valuesAt, step) = KHOXArrayV2.listOffsets(count: count, listLayout)
    let end = keysAt + 16 * count
    for off in stride(from: end, to: pageCount * g.pageSize, by: 1) where try r.integer(at: off, as: UInt8.self) != 0 {
      throw r.error(.inconsistent, "non-zero byte after the list's entries", at: off)
    }
    var listMarks: UInt8 = 0
    for m in 0..<3 {
      for w in 0..<words {
        let at = KHOXArrayV2.listHeaderBytes + 8 * (m * words + w)
        let word = try r.integer(at: at, as: UInt64.self)
        let valid = w < count / 64 ? UInt64.max : (1 << UInt64(count & 63)) &- 1
        guard word & ~valid == 0 else {
          throw r.error(.inconsistent, "mark \(m) set beyond the list's \(count) entries", at: at)
        }
        if word != 0 { listMarks |= 1 << UInt8(m) }
      }
    }
    let cover = s.coverBits(level)
    let last = cover >= 64 ? UInt64.max : base | ((1 << UInt64(cover)) &- 1)
    var previous: UInt64? = nil
    for k in 0..<count {
      let key = try r.integer(at: keysAt + step * k, as: UInt64.self)
      guard base <= key, key <= last else {
        throw r.error(
          .outOfRange,
          "index 0x\(String(key, radix: 16)) outside the slot's 0x\(String(base, radix: 16))...0x\(String(last, radix: 16))",
          at: keysAt + step * k)
      }
      if let p = previous, key <= p {
        throw r.error(.inconsistent, "indices not ascending at entry \(k)", at: keysAt + step * k)
      }
      previous = key
    }
    guard listMarks == sl.marks else {
      throw DecodeError(
        .inconsistent,
        "mark summary 0x\(String(sl.marks, radix: 16)) but the list has 0x\(String(listMarks, radix: 16))",
        path: path, address: addr)
    }
    // Each spans from its first to its last word (the pairs interleave).
    let span = step * (count - 1) + 8
    guard let keys = all.extracting(keysAt, count: span),
      let values = all.extracting(valuesAt, count: span),
      let markBits = all.extracting(KHOXArrayV2.listHeaderBytes, count: 24 * words)
    else { throw DecodeError(.truncated, "list leaf", path: path, address: addr) }
    s.count += count
    maxIndex = Swift.max(maxIndex ?? 0, previous ?? 0)
    marks |= listMarks
    lists = true
    return s.addList(keys: keys, values: values, marks: markBits, count: count, step: step)
  }

  /// Notes the entry whose head is bit `start` of a leaf and whose last
  /// key is bit `end - 1`, after checking that it spans an aligned power
  /// of two (`siblingsAt`: where the leaf's sibling bitmap starts in `r`).
  mutating func closeRun(
    _ start: Int, end: Int, base: UInt64, _ r: ByteReader, siblingsAt: Int
  ) throws(DecodeError) {
    let len = end - start
    guard len & (len - 1) == 0, start % len == 0 else {
      throw r.error(
        .misaligned, "range at bit \(start) of length \(len) is not an aligned power of two", at: siblingsAt)
    }
    if len > 1 { ranges = true }
    let first = base | UInt64(start)
    note(first, first + UInt64(len - 1), 0, range: false)
  }

  mutating func leaf(_ sl: _V2Slot, base: UInt64, path: DecodePath) throws(DecodeError) -> _ShadowRef {
    let g = memory.geometry
    let n = 1 << s.leafBits
    let addr = PhysAddr(sl.word)
    if sl.kind == .denseLeaf {
      let page = try pages(sl, count: 1, path: path)
      guard sl.marks == 0 else {
        throw DecodeError(.inconsistent, "dense leaf with a mark summary", path: path, address: addr)
      }
      s.count += n
      maxIndex = Swift.max(maxIndex ?? 0, base | UInt64(n - 1))
      return s.addLeaf(.dense, values: page, meta: nil)
    }
    let wide = sl.kind == .wideLeaf
    let all = try pages(sl, count: wide ? 2 : 1, path: path)
    let metaOffset = wide ? g.pageSize : 0
    let bmBytes = KHOXArrayV2.bitmapBytes(g)
    guard let meta = all.extracting(metaOffset, count: 8 + 5 * bmBytes) else {
      throw DecodeError(.truncated, "leaf shorter than its bitmaps", path: path, address: addr)
    }
    let r = ByteReader(meta, order: g.byteOrder, path: path, base: PhysAddr(sl.word + UInt64(metaOffset)))
    let count = Int(try r.integer(at: 0, as: UInt32.self))
    let reserved = try r.integer(at: 4, as: UInt32.self)
    guard reserved == 0 else { throw r.error(.unsupported, "non-zero reserved leaf field", at: 4) }
    let words = n / 64
    func word(_ table: Int, _ w: Int) throws(DecodeError) -> UInt64 {
      try r.integer(at: 8 + (table * words + w) * 8)
    }
    var heads = 0
    var runStart = -1
    var leafMarks: UInt8 = 0
    var anySibling = false
    for w in 0..<words where try word(1, w) != 0 { anySibling = true }
    // Walk the bits once: heads, sibling runs (power-of-two, aligned),
    // marks only on heads.
    for w in 0..<words {
      let p = try word(0, w)
      let sib = try word(1, w)
      guard p & sib == 0 else {
        throw r.error(.inconsistent, "a key is both an entry and a sibling", at: 8 + w * 8)
      }
      for m in 0..<3 {
        let mw = try word(2 + m, w)
        guard mw & ~p == 0 else {
          throw r.error(.inconsistent, "mark \(m) set on a key that is not an entry", at: 8 + ((2 + m) * words + w) * 8)
        }
        if mw != 0 { leafMarks |= 1 << UInt8(m) }
      }
      heads += p.nonzeroBitCount
      if !anySibling {
        if p != 0 {
          s.count += p.nonzeroBitCount
          maxIndex = Swift.max(maxIndex ?? 0, base | UInt64(w * 64 + 63 - p.leadingZeroBitCount))
        }
        continue
      }
      for b in 0..<64 {
        let i = w * 64 + b
        let isHead = (p >> UInt64(b)) & 1 != 0
        let isSib = (sib >> UInt64(b)) & 1 != 0
        if isSib {
          guard runStart >= 0 else {
            throw r.error(.inconsistent, "sibling bit \(i) follows no entry", at: 8 + (words + w) * 8)
          }
          continue
        }
        if runStart >= 0 {
          try closeRun(runStart, end: i, base: base, r, siblingsAt: 8 + words * 8)
          runStart = -1
        }
        if isHead { runStart = i }
      }
    }
    if runStart >= 0 { try closeRun(runStart, end: n, base: base, r, siblingsAt: 8 + words * 8) }
    guard heads == count else {
      throw r.error(.badCount, "count \(count) but \(heads) entries in the bitmap", at: 0)
    }
    guard heads > 0 else { throw r.error(.badCount, "empty leaf", at: 0) }
    if !wide {
      guard heads <= KHOXArrayV2.packedCapacity(g) else {
        throw r.error(.badCount, "\(heads) entries exceed a packed leaf's \(KHOXArrayV2.packedCapacity(g))", at: 0)
      }
    }
    guard leafMarks == sl.marks else {
      throw DecodeError(
        .inconsistent,
        "mark summary 0x\(String(sl.marks, radix: 16)) but the leaf has 0x\(String(leafMarks, radix: 16))",
        path: path, address: addr)
    }
    marks |= leafMarks
    if wide {
      guard let values = all.extracting(0, count: g.pageSize) else {
        throw DecodeError(.truncated, "wide leaf", path: path, address: addr)
      }
      return s.addLeaf(.wide, values: values, meta: meta.extracting(8, count: 5 * bmBytes) ?? meta)
    }
    guard let values = all.extracting(8 + 5 * bmBytes, count: heads * 8) else {
      throw DecodeError(.truncated, "packed values", path: path, address: addr)
    }
    return s.addLeaf(.packed, values: values, meta: meta.extracting(8, count: 5 * bmBytes) ?? meta)
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension RadixTree {
  /// The path decode errors start from.
  public static let defaultPath: DecodePath = "/preserved-memory-map"

  /// Reads the tree at `root` into a ``PreservedSet``, failing on the first
  /// problem.
  ///
  /// Empty leaves and tables (left by unpreserve) are fine. Problems, each
  /// a located `DecodeError`: a root of 0 (`missing`), a node outside
  /// captured memory (`notCaptured`/`crossesHole`), a node pointer that is
  /// not page aligned (`misaligned`), a node reached twice (`cycle`), set
  /// bits that decode to no valid entry (`outOfRange`).
  ///
  /// Cost: one read per node, one word copy per leaf word; memory is bounded
  /// by the distinct pages read.
  public static func decode(
    from memory: any PhysicalMemory, root: PhysAddr, depth rule: DepthRule = .plusOne,
    path: DecodePath = defaultPath
  ) throws(DecodeError) -> PreservedSet {
    var walker = _RadixWalker(memory: memory, rule: rule, strict: true, base: path)
    try walker.run(root: root)
    walker.set._checkInvariants()
    return walker.set
  }

  /// Walks the tree at `root` and keeps going past problems: every entry it
  /// can reach, the tree's shape, and every problem (see ``decode(from:root:depth:path:)``).
  public static func decodeReporting(
    from memory: any PhysicalMemory, root: PhysAddr, depth rule: DepthRule = .plusOne,
    path: DecodePath = defaultPath
  ) -> DecodeOutcome<DecodedMemoryMap> {
    decodeReporting(from: memory, root: root, depth: rule, path: path, chunkBudget: PreservedSet.maxChunkBytes)
  }

  /// ``decodeReporting(from:root:depth:path:)`` with a smaller chunk budget (tests).
  static func decodeReporting(
    from memory: any PhysicalMemory, root: PhysAddr, depth rule: DepthRule, path: DecodePath, chunkBudget: Int
  ) -> DecodeOutcome<DecodedMemoryMap> {
    var walker = _RadixWalker(memory: memory, rule: rule, strict: false, base: path)
    walker.chunkBudget = chunkBudget
    do { try walker.run(root: root) } catch { walker.problems.record(error) }
    walker.set._checkInvariants()
    return DecodeOutcome(DecodedMemoryMap(set: walker.set, shape: .radix(walker.stats)), walker.problems)
  }
}

/// The depth-first walk of `kho_radix_walk_tree`, with checks.
struct _RadixWalker {
  let memory: any PhysicalMemory
  let layout: RadixLayout
  let byteOrder: ByteOrder
  let base: DecodePath
  var set: PreservedSet
  var stats: RadixTreeStats
  var problems: DecodeProblems
  var visited: Set<UInt64> = []
  /// `indices[L]`: the entry taken in the table at level L on the current path.
  var indices: [Int]
  var scratch: [UInt64]
  /// Leaves found by the table walk, in walk order: (address, key prefix).
  var leaves: [(PhysAddr, UInt64)] = []
  /// The most leaf bytes the decode may fill (``PreservedSet/maxChunkBytes``).
  var chunkBudget = PreservedSet.maxChunkBytes

  init(memory: any PhysicalMemory, rule: RadixTree.DepthRule, strict: Bool, base: DecodePath) {
    self.memory = memory
    self.layout = RadixLayout(geometry: memory.geometry, depthRule: rule)
    self.byteOrder = memory.geometry.byteOrder
    self.problems = DecodeProblems(strict: strict)
    self.base = base
    self.set = PreservedSet(geometry: memory.geometry)
    self.stats = RadixTreeStats(depth: layout.depth)
    self.indices = Array(repeating: 0, count: layout.depth)
    self.scratch = Array(repeating: 0, count: layout.leafWords)
  }

  /// The path of the node at `level` on the current path: `L5[2]/L4[0]/…`.
  func path(level: Int) -> DecodePath {
    var p = base
    var l = layout.depth - 1
    while l > level {
      p = p.appending("L\(l)").index(indices[l])
      l -= 1
    }
    return p
  }

  mutating func report(_ error: DecodeError) throws(DecodeError) {
    try problems.report(error)
  }

  mutating func report(
    _ kind: DecodeError.Kind, _ message: String, level: Int, address: PhysAddr?
  ) throws(DecodeError) {
    try report(DecodeError(kind, message, path: path(level: level), address: address))
  }

  mutating func run(root: PhysAddr) throws(DecodeError) {
    let top = layout.depth - 1
    guard !root.isZero else {
      try report(.missing, "the memory map root is 0", level: top, address: nil)
      return
    }
    guard root.isPageAligned(layout.geometry) else {
      try report(.misaligned, "root node \(root) is not page aligned", level: top, address: root)
      return
    }
    visited.insert(root.rawValue)
    // Tables first (they are few), so the leaves' storage can be reserved
    // in one go; then the leaves, in walk order.
    try table(root, level: top, prefix: 0)
    // Only captured leaves count, so a table of pointers into nothing
    // cannot make the reservation larger than the input.
    var perOrder = [Int](repeating: 0, count: set._orders.count)
    let segments = memory.segments
    let pageSize = layout.geometry.pageSize64
    for (node, prefix) in leaves
    where SegmentIndex.covers(segments, PhysRange(start: node, size: pageSize)) {
      let p = prefix >> UInt64(layout.leafBits)
      let orderBit = layout.leafBits + 63 - p.leadingZeroBitCount
      if p != 0, orderBit <= layout.order0Log2 { perOrder[layout.order0Log2 - orderBit] += 1 }
    }
    var left = chunkBudget / layout.geometry.pageSize
    for (o, n) in perOrder.enumerated() where n > 0 && left > 0 {
      set._orders[o].reserve(chunks: Swift.min(n, left), wordsPerChunk: layout.leafWords)
      left -= Swift.min(n, left)
    }
    var found = leaves
    leaves = []
    let budget = chunkBudget / layout.geometry.pageSize
    let captured = perOrder.reduce(0, +)
    if captured > budget {
      try report(
        .limitExceeded,
        "the map has \(captured) captured leaves, more than the \(budget) (\(chunkBudget >> 20) MiB) a decode may fill; the first \(budget) are read",
        level: top, address: root)
      found = Array(found.prefix(budget))
    }
    for (node, prefix) in found {
      for l in 1..<layout.depth { indices[l] = layout.tableIndex(prefix, level: l) }
      try leaf(node, prefix: prefix)
    }
  }

  mutating func read(_ node: PhysAddr, level: Int) throws(DecodeError) -> Bytes? {
    do {
      return try memory.bytes(at: node, count: layout.geometry.pageSize)
    } catch {
      var e = error
      e.path = path(level: level)
      if e.address == nil { e.address = node }
      try report(e)
      return nil
    }
  }

  mutating func table(_ node: PhysAddr, level: Int, prefix: UInt64) throws(DecodeError) {
    guard let bytes = try read(node, level: level) else { return }
    stats.tableNodesByLevel[level] += 1
    let shift = UInt64(layout.indexShift(level: level))
    var children = 0
    for i in 0..<layout.tableEntries {
      let raw = _PageWords.word(bytes, byteOrder, at: i)
      if raw == 0 { continue }
      children += 1
      indices[level] = i
      let child = PhysAddr(raw)
      let entryAddress = PhysAddr(node.rawValue &+ UInt64(i * 8))
      guard child.isPageAligned(layout.geometry) else {
        try report(
          .misaligned, "entry \(i) points to \(child), which is not page aligned",
          level: level - 1, address: entryAddress)
        continue
      }
      guard visited.insert(raw).inserted else {
        try report(
          .cycle, "entry \(i) points to \(child), a node already reached (the tree is not a tree)",
          level: level - 1, address: entryAddress)
        continue
      }
      let childPrefix = prefix | (UInt64(i) << shift)
      if level == 1 {
        leaves.append((child, childPrefix))
      } else {
        try table(child, level: level - 1, prefix: childPrefix)
      }
    }
    if children == 0 { stats.emptyTables += 1 }
  }

  mutating func leaf(_ node: PhysAddr, prefix: UInt64) throws(DecodeError) {
    guard let bytes = try read(node, level: 0) else { return }
    stats.leaves += 1
    let k = layout.order0Log2
    let w = layout.leafWords
    let p = prefix >> UInt64(layout.leafBits)
    if p != 0 {
      // The whole leaf is one chunk of one order: OR it in straight from
      // memory (each (order, chunk) has exactly one leaf, so every bit is new).
      let high = 63 - p.leadingZeroBitCount
      let orderBit = layout.leafBits + high
      if orderBit <= k {
        let added = set._orders[k - orderBit].orChunk(
          p & ~(1 << UInt64(high)), loading: bytes, byteOrder, wordsPerChunk: w)
        stats.setBits += added
        if added == 0 { stats.emptyLeaves += 1 }
        return
      }
    }
    var words = scratch
    scratch = []
    defer { scratch = words }
    let any = words.withUnsafeMutableBufferPointer { _PageWords.load(bytes, byteOrder, into: $0) }
    if any == 0 {
      stats.emptyLeaves += 1
      return
    }
    var bits = 0
    for x in words { bits += x.nonzeroBitCount }
    stats.setBits += bits
    let chunkShift = set.chunkShift
    if p != 0 {
      let orderBit = layout.leafBits + 63 - p.leadingZeroBitCount
      try report(
        .outOfRange,
        "\(bits) set bit(s) in a leaf whose keys have their order bit at \(orderBit); valid keys have it at bit 1...\(k), so none decodes to an entry",
        level: 0, address: node)
      return
    }
    // Leaf 0 holds the orders whose order bit falls inside the leaf.
    for wi in 0..<w where words[wi] != 0 {
      if wi != 0 {
        let high = 63 - UInt64(wi).leadingZeroBitCount
        let order = k - (high + 6)
        let jw = UInt64(wi) & ~(1 << UInt64(high))
        _ = set._orders[order].orWord(jw, words[wi], chunkShift: chunkShift, wordsPerChunk: w)
        continue
      }
      var b = words[0]
      if b & 0b11 != 0 {
        try report(
          .outOfRange,
          "leaf bit(s) \(b & 1 != 0 ? "0 (no order bit)" : "")\(b & 3 == 3 ? " and " : "")\(b & 2 != 0 ? "1 (order \(k), too large to address)" : "") decode to no entry",
          level: 0, address: node)
        b &= ~0b11
      }
      while b != 0 {
        let key = UInt64(b.trailingZeroBitCount)
        b &= b &- 1
        let high = 63 - key.leadingZeroBitCount
        let order = k - high
        let j = key & ~(1 << UInt64(high))
        _ = set._orders[order].insert(j, chunkShift: chunkShift, wordsPerChunk: w)
      }
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import CPrefetch
import KHOCore

/// Answers "is this preserved?" by descending a radix tree where it lies in
/// memory, without decoding it.
///
/// The first query for a leaf descends the tables: one u64 per level below
/// the level that holds the key's order bit (above it every index is 0, so
/// the chain of first entries from the root is followed once). The view
/// then remembers, per order, which leaf page each leaf number leads to and
/// which 64ths of that leaf have bits set, so a later query loads one word
/// of one leaf per order, or nothing for an order that is empty around the
/// page. ``covering(_:orders:)`` tries each order from 0 up, and stops as
/// soon as the chain has ended above every remaining order (a tree of small
/// folios answers for the high orders without reading anything).
///
/// What the view remembers holds while the memory's
/// ``PhysicalMemory/generation`` stays the same; a tree written after a
/// query (in a ``PhysicalImage``) is read again from the root.
///
///     let view = try RadixTreeView(memory: image, root: root)
///     try view.contains(PhysAddr(0x4000_0000), order: 9)    // exact entry
///     try view.isPreserved(PhysAddr(0x4000_5000))            // inside any entry
public struct RadixTreeView {
  /// Where the tree lives.
  public let memory: any PhysicalMemory
  /// The root node.
  public let root: PhysAddr
  /// The tree's constants.
  public let layout: RadixLayout
  /// The path errors are reported at.
  public let path: DecodePath
  /// The nodes read so far, and which table entry leads to which.
  let nodes: _ViewNodes

  /// A view of the tree at `root`; checks that the root is a readable page.
  public init(
    memory: any PhysicalMemory, root: PhysAddr, depth rule: RadixTree.DepthRule = .plusOne,
    path: DecodePath = RadixTree.defaultPath
  ) throws(DecodeError) {
    self.memory = memory
    self.root = root
    self.layout = RadixLayout(geometry: memory.geometry, depthRule: rule)
    self.path = path
    guard !root.isZero else { throw DecodeError(.missing, "the memory map root is 0", path: path) }
    let generation = memory.generation
    let page = try memory.page(at: root, path: path).bytes
    self.nodes = try _ViewNodes(
      root: root, page: page, levels: layout.depth, tableEntries: layout.tableEntries,
      pageSize: layout.geometry.pageSize, generation: generation)
  }

  /// Makes the remembered nodes fit to use: forgets them past the node
  /// budget, and starts again from the root when the memory has changed
  /// since they were read.
  @inline(__always)
  private func prepare() throws(DecodeError) {
    nodes.trim()
    let generation = memory.generation
    if generation != nodes.generation {
      let page = try memory.page(at: root, path: path).bytes
      try nodes.restart(root: root, page: page, generation: generation)
    }
  }

  /// Word `index` of node `n`; `index` is below the words of a page (a
  /// table index or a leaf word, masked to the layout), and every node is
  /// one whole page.
  @inline(__always)
  private func word(_ n: Int32, _ index: Int) -> UInt64 {
    _ImageWords._u64(nodes.nodes[Int(n)].base, at: index &* 8, layout.geometry.byteOrder)
  }

  /// The node that entry `index` of table node `n` (at `level` ≥ 1) points
  /// to, or nil when the entry is empty.
  ///
  /// A child is read from memory the first time its entry is followed and
  /// remembered in the parent's row; the entry is loaded every time and
  /// compared with the child's address, so a table changed in place (a
  /// ``PhysicalImage`` written after the view was made) is followed anew.
  @inline(__always)
  private func child(of n: Int32, level: Int, index: Int) throws(DecodeError) -> Int32? {
    let entry = word(n, index)
    if entry == 0 { return nil }
    let slot = Int(nodes.nodes[Int(n)].row) &* layout.tableEntries &+ index
    let c = nodes.children[slot]
    if c >= 0, nodes.nodes[Int(c)].address == entry { return c }
    return try read(entry, from: n, slot: slot, level: level - 1)
  }

  /// Reads the node at `entry` (found at `slot` of `parent`'s row) and
  /// remembers it.
  private func read(_ entry: UInt64, from parent: Int32, slot: Int, level: Int) throws(DecodeError) -> Int32 {
    let address = PhysAddr(entry)
    guard address.isPageAligned(layout.geometry) else {
      throw DecodeError(
        .misaligned, "table entry points to \(address), which is not page aligned", path: path,
        address: PhysAddr(nodes.nodes[Int(parent)].address))
    }
    let page = try memory.bytes(at: address, count: layout.geometry.pageSize, path: path)
    guard let c = nodes.append(address: entry, page: page, isTable: level >= 1) else {
      throw DecodeError(.truncated, "node \(address) is not a whole page", path: path, address: address)
    }
    nodes.children[slot] = c
    return c
  }

  /// Whether the tree holds the entry (`phys`, `order`) exactly.
  ///
  /// - Throws: `DecodeError` when a node on the way is not captured or a
  ///   pointer is not page aligned.
  public func contains(_ phys: PhysAddr, order: Int) throws(DecodeError) -> Bool {
    guard let key = layout.key(PreservedEntry(phys, order: order)) else { return false }
    try prepare()
    let bit = layout.leafBit(key)
    guard let leaf = try leaf(key, order: order, bit: bit) else { return false }
    return test(leaf, bit: bit)
  }

  /// Whether bit `bit` of the leaf page at `leaf` is set.
  @inline(__always)
  private func test(_ leaf: UnsafeRawPointer, bit: Int) -> Bool {
    _ImageWords._u64(leaf, at: (bit >> 6) &* 8, layout.geometry.byteOrder) & (1 << UInt64(bit & 63)) != 0
  }

  /// The page of the leaf that holds `key` (of an `order` entry; `bit` is
  /// its leaf bit), or nil when a table on the way has no entry for it or
  /// the part of the leaf that holds `bit` is all zero.
  ///
  /// The order's leaf map answers a leaf number seen before; otherwise the
  /// tables are descended and the answer remembered.
  @inline(__always)
  private func leaf(_ key: UInt64, order: Int, bit: Int) throws(DecodeError) -> UnsafeRawPointer? {
    let orderBit = UInt64(1) << UInt64(layout.order0Log2 - order)
    let number = (key & (orderBit &- 1)) >> UInt64(layout.leafBits)
    var known = nodes.leafSlot(order: order, number: number)
    if known.leaf == 0 {
      known = _ViewNodes.LeafSlot(leaf: 1, summary: 0)
      if let node = try descend(key, order: order) {
        let base = nodes.nodes[Int(node)].base
        known = _ViewNodes.LeafSlot(leaf: UInt(bitPattern: base), summary: summary(of: base))
      }
      nodes.remember(
        order: order, number: number, numbers: ((orderBit &- 1) >> UInt64(layout.leafBits)) &+ 1, slot: known)
    }
    guard known.summary & (1 << UInt64(bit >> (layout.leafBits &- 6))) != 0 else { return nil }
    return UnsafeRawPointer(bitPattern: known.leaf)
  }

  /// Which 64ths of the leaf page at `leaf` have a bit set (bit `g`: the
  /// `g`-th run of `leafWords / 64` words).
  private func summary(of leaf: UnsafeRawPointer) -> UInt64 {
    let run = layout.leafWords / 64
    var summary: UInt64 = 0
    for g in 0..<64 {
      var any: UInt64 = 0
      for w in g &* run..<(g &+ 1) &* run { any |= _ImageWords._u64(leaf, at: w &* 8, .little) }
      if any != 0 { summary |= 1 << UInt64(g) }
    }
    return summary
  }

  /// The leaf node that holds `key` (of an `order` entry), found through
  /// the tables, or nil when one of them has no entry for it.
  private func descend(_ key: UInt64, order: Int) throws(DecodeError) -> Int32? {
    var level = topLevel(order: order)
    guard var node = try firstEntries(down: level) else { return nil }
    while level >= 1 {
      guard let next = try child(of: node, level: level, index: layout.tableIndex(key, level: level)) else {
        return nil
      }
      node = next
      level &-= 1
    }
    return node
  }

  /// The level holding the order bit of an `order` entry's key.
  private func topLevel(order: Int) -> Int {
    layout.level(ofKeyBit: layout.order0Log2 - order)
  }

  /// The node at `level` reached from the root through entry 0 of each
  /// table above it, or nil when one of those entries is empty.
  private func firstEntries(down level: Int) throws(DecodeError) -> Int32? {
    var reached = nodes.chainLevel
    if reached <= level { return nodes.chain[level] }
    if nodes.chainEnded { return nil }
    var node = nodes.chain[reached]
    while reached > level {
      guard let next = try child(of: node, level: reached, index: 0) else {
        nodes.chainEnded = true
        return nil
      }
      node = next
      reached -= 1
      nodes.chain[reached] = node
      nodes.chainLevel = reached
    }
    return node
  }

  /// Whether the tree holds `entry` exactly.
  public func contains(_ entry: PreservedEntry) throws(DecodeError) -> Bool {
    try contains(entry.phys, order: entry.order)
  }

  /// The smallest-order entry whose range contains the page at `phys`.
  ///
  /// Two passes: the first finds for every order the leaf word that would
  /// hold it (through the order's leaf map, or the tables the first time),
  /// skips the orders whose leaf is empty around the page, and asks the
  /// CPU to fetch each remaining word; the second tests the bits from
  /// order 0 up. The leaf words, one cache miss each, then arrive
  /// together instead of one after the other. A node that cannot be read
  /// ends the first pass; its error is thrown only when no lower order
  /// holds the page, as a descent order by order would.
  public func covering(_ phys: PhysAddr, orders: ClosedRange<Int>? = nil) throws(DecodeError)
    -> PreservedEntry?
  {
    let all = 0...layout.maxOrder
    try prepare()
    let pfn = phys.pfn(layout.geometry)
    return try withUnsafeTemporaryAllocation(of: _Probe.self, capacity: 64) {
      (probes) throws(DecodeError) -> PreservedEntry? in
      var n = 0
      var failure: DecodeError? = nil
      for o in orders ?? all where all.contains(o) && layout.canStore(order: o) {
        let key = layout.key(pfn: pfn, order: o)
        do throws(DecodeError) {
          let bit = layout.leafBit(key)
          if let leaf = try leaf(key, order: o, bit: bit) {
            kho_prefetch_for_read(leaf + (bit >> 6) &* 8)
            probes.initializeElement(
              at: n, to: _Probe(leaf: leaf, bit: Int32(truncatingIfNeeded: bit), order: Int16(o)))
            n &+= 1
          }
        } catch {
          failure = error
          break
        }
        // Orders above `o` have their order bit no higher; past the end of
        // the first-entry chain none of them can be present.
        if nodes.chainEnded && topLevel(order: o &+ 1) < nodes.chainLevel { break }
      }
      for p in probes[0..<n] {
        if test(p.leaf, bit: Int(p.bit)) {
          let mask = (UInt64(1) << UInt64(Int(p.order) + layout.geometry.pageShift)) &- 1
          return PreservedEntry(PhysAddr(phys.rawValue & ~mask), order: Int(p.order))
        }
      }
      if let failure { throw failure }
      return nil
    }
  }

  /// Whether the page at `phys` lies inside any preserved range.
  public func isPreserved(_ phys: PhysAddr) throws(DecodeError) -> Bool {
    try covering(phys) != nil
  }
}

extension RadixTree {
  /// Whether the page at `phys` lies inside any entry of the tree at `root`,
  /// read in place (see ``RadixTreeView``).
  public static func isPreserved(
    _ phys: PhysAddr, in memory: any PhysicalMemory, root: PhysAddr,
    depth rule: DepthRule = .plusOne
  ) throws(DecodeError) -> Bool {
    try RadixTreeView(memory: memory, root: root, depth: rule).isPreserved(phys)
  }
}

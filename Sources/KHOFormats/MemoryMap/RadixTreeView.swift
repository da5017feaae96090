// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Answers "is this preserved?" by descending a radix tree where it lies in
/// memory, without decoding it.
///
/// An exact (address, order) query reads one u64 per level below the level
/// that holds the key's order bit; above it every index is 0, so the view
/// follows the chain of first entries from the root once and starts there.
/// ``covering(_:orders:)`` tries each order from 0 up and stops at the first hit,
/// or as soon as that chain has ended above every remaining order (a tree
/// of small folios answers for the high orders without reading anything).
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
  /// The last page read at each level: a query's descents for different
  /// orders, and consecutive queries, mostly revisit the same upper nodes.
  private let cache: _NodeCache

  /// A view of the tree at `root`; checks that the root is a readable page.
  public init(
    memory: any PhysicalMemory, root: PhysAddr, depth rule: RadixTree.DepthRule = .plusOne,
    path: DecodePath = RadixTree.defaultPath
  ) throws(DecodeError) {
    self.memory = memory
    self.root = root
    self.layout = RadixLayout(geometry: memory.geometry, depthRule: rule)
    self.path = path
    self.cache = _NodeCache(levels: layout.depth, root: root)
    guard !root.isZero else { throw DecodeError(.missing, "the memory map root is 0", path: path) }
    _ = try memory.page(at: root, path: path)
  }

  private func load(_ node: PhysAddr, level: Int, word index: Int) throws(DecodeError) -> UInt64 {
    if cache.addresses[level] == node.rawValue, let page = cache.pages[level] {
      return _PageWords.word(page, layout.geometry.byteOrder, at: index)
    }
    let page = try memory.bytes(at: node, count: layout.geometry.pageSize, path: path)
    cache.addresses[level] = node.rawValue
    cache.pages[level] = page
    return _PageWords.word(page, layout.geometry.byteOrder, at: index)
  }

  /// Whether the tree holds the entry (`phys`, `order`) exactly.
  ///
  /// - Throws: `DecodeError` when a node on the way is not captured or a
  ///   pointer is not page aligned.
  public func contains(_ phys: PhysAddr, order: Int) throws(DecodeError) -> Bool {
    guard let key = layout.key(PreservedEntry(phys, order: order)) else { return false }
    var level = topLevel(order: order)
    guard var node = try firstEntries(down: level) else { return false }
    while level >= 1 {
      let next = try load(node, level: level, word: layout.tableIndex(key, level: level))
      if next == 0 { return false }
      node = try child(next, of: node)
      level -= 1
    }
    let bit = layout.leafBit(key)
    return try load(node, level: 0, word: bit >> 6) & (1 << UInt64(bit & 63)) != 0
  }

  /// The level holding the order bit of an `order` entry's key.
  private func topLevel(order: Int) -> Int {
    layout.level(ofKeyBit: layout.order0Log2 - order)
  }

  /// The node at `level` reached from the root through entry 0 of each
  /// table above it, or nil when one of those entries is empty.
  private func firstEntries(down level: Int) throws(DecodeError) -> PhysAddr? {
    var reached = cache.chainLevel
    if reached <= level { return PhysAddr(cache.chain[level]) }
    if cache.chainEnded { return nil }
    var node = PhysAddr(cache.chain[reached])
    while reached > level {
      let next = try load(node, level: reached, word: 0)
      if next == 0 {
        cache.chainEnded = true
        return nil
      }
      node = try child(next, of: node)
      reached -= 1
      cache.chain[reached] = node.rawValue
      cache.chainLevel = reached
    }
    return node
  }

  /// The child a table entry of `node` points to, checked for alignment.
  private func child(_ entry: UInt64, of node: PhysAddr) throws(DecodeError) -> PhysAddr {
    let c = PhysAddr(entry)
    guard c.isPageAligned(layout.geometry) else {
      throw DecodeError(
        .misaligned, "table entry points to \(c), which is not page aligned", path: path,
        address: node)
    }
    return c
  }

  /// Whether the tree holds `entry` exactly.
  public func contains(_ entry: PreservedEntry) throws(DecodeError) -> Bool {
    try contains(entry.phys, order: entry.order)
  }

  /// The smallest-order entry whose range contains the page at `phys`.
  public func covering(_ phys: PhysAddr, orders: ClosedRange<Int>? = nil) throws(DecodeError)
    -> PreservedEntry?
  {
    let all = 0...layout.maxOrder
    for o in orders ?? all where all.contains(o) && layout.canStore(order: o) {
      let mask = (UInt64(1) << UInt64(o + layout.geometry.pageShift)) &- 1
      let start = PhysAddr(phys.rawValue & ~mask)
      if try contains(start, order: o) { return PreservedEntry(start, order: o) }
      // Orders above `o` have their order bit no higher; past the end of
      // the first-entry chain none of them can be present.
      if cache.chainEnded && topLevel(order: o &+ 1) < cache.chainLevel { break }
    }
    return nil
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

/// Per-level page cache of a ``RadixTreeView`` (not shared across threads).
///
/// Its properties skip the runtime exclusivity check: a view is used from
/// one thread, and only `RadixTreeView` touches them, never re-entrantly.
final class _NodeCache {
  @exclusivity(unchecked) var addresses: [UInt64]
  @exclusivity(unchecked) var pages: [Bytes?]
  /// Nodes reached from the root through entry 0 of each table, by level;
  /// valid from the root's level down to `chainLevel`.
  @exclusivity(unchecked) var chain: [UInt64]
  @exclusivity(unchecked) var chainLevel: Int
  /// Whether entry 0 of the node at `chainLevel` is empty.
  @exclusivity(unchecked) var chainEnded = false
  init(levels: Int, root: PhysAddr) {
    let n = Swift.max(levels, 1)
    addresses = Array(repeating: UInt64.max, count: n)
    pages = Array(repeating: nil, count: n)
    chain = Array(repeating: 0, count: n)
    chain[n - 1] = root.rawValue
    chainLevel = n - 1
  }
}

// SPDX-License-Identifier: Apache-2.0
import CPrefetch
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
    let page = try memory.page(at: root, path: path).bytes
    self.nodes = try _ViewNodes(
      root: root, page: page, levels: layout.depth, tableEntries: layout.tableEntries,
      pageSize: layout.geometry.pageSize)
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
    nodes.trim()
    guard let (leaf, bit) = try leafWord(key, order: order) else { return false }
    return word(leaf, bit >> 6) & (1 << UInt64(bit & 63)) != 0
  }

  /// The leaf node and bit that hold `key` (of an `order` entry), or nil
  /// when a table on the way has no entry for it.
  @inline(__always)
  private func leafWord(_ key: UInt64, order: Int) throws(DecodeError) -> (Int32, Int)? {
    var level = topLevel(order: order)
    guard var node = try firstEntries(down: level) else { return nil }
    while level >= 1 {
      guard let next = try child(of: node, level: level, index: layout.tableIndex(key, level: level)) else {
        return nil
      }
      node = next
      level &-= 1
    }
    return (node, layout.leafBit(key))
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
  /// Two passes: the first descends for every order to the leaf word that
  /// would hold it (the tables are remembered, so this mostly stays in
  /// cache) and asks the CPU to fetch each word; the second tests the bits
  /// from order 0 up. The leaf words, one cache miss each, then arrive
  /// together instead of one after the other. A node that cannot be read
  /// ends the first pass; its error is thrown only when no lower order
  /// holds the page, as a descent order by order would.
  public func covering(_ phys: PhysAddr, orders: ClosedRange<Int>? = nil) throws(DecodeError)
    -> PreservedEntry?
  {
    let all = 0...layout.maxOrder
    nodes.trim()
    return try withUnsafeTemporaryAllocation(of: _Probe.self, capacity: 64) {
      (probes) throws(DecodeError) -> PreservedEntry? in
      var n = 0
      var failure: DecodeError? = nil
      for o in orders ?? all where all.contains(o) && layout.canStore(order: o) {
        let mask = (UInt64(1) << UInt64(o + layout.geometry.pageShift)) &- 1
        let start = PhysAddr(phys.rawValue & ~mask)
        do throws(DecodeError) {
          if let key = layout.key(PreservedEntry(start, order: o)), let (leaf, bit) = try leafWord(key, order: o) {
            let at = (bit >> 6) &* 8
            kho_prefetch_for_read(nodes.nodes[Int(leaf)].base + at)
            probes.initializeElement(
              at: n, to: _Probe(leaf: leaf, bit: Int16(truncatingIfNeeded: bit), order: Int16(o)))
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
        let bit = Int(p.bit)
        if word(p.leaf, bit >> 6) & (1 << UInt64(bit & 63)) != 0 {
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

/// One order's leaf word in ``RadixTreeView/covering(_:orders:)``.
struct _Probe {
  var leaf: Int32
  var bit: Int16
  var order: Int16
}

/// The nodes a ``RadixTreeView`` has read (not shared across threads).
///
/// Node 0 is the root. Each table node has a row of child node numbers, one
/// per entry (-1: not followed yet), so a descent after the first goes from
/// page to page without asking the memory again: no dictionary lookup, no
/// retained page per level. At most ``maxNodes`` are kept; past that the
/// next query starts again from the root, so the view's memory follows the
/// queries' working set, never the size of the tree.
///
/// Its properties skip the runtime exclusivity check: a view is used from
/// one thread, and only `RadixTreeView` touches them, never re-entrantly.
final class _ViewNodes {
  /// A node: where its page is loaded from, its address, and its row.
  ///
  /// `base` points at the node's page, one whole page that `pages` keeps
  /// alive (at the same position) for as long as the node is here; loads
  /// through it are the view's only unsafe reads, each at a word index
  /// below the page's words.
  struct Node {
    let base: UnsafeRawPointer
    let address: UInt64
    /// The row of child numbers in `children`; -1 for a leaf.
    let row: Int32
  }

  /// Nodes kept before the view starts again from the root: the tables
  /// and leaves of a 2 TiB host's order-0 pages, or of a mixed-order set
  /// on a 1 TiB host; 256 MiB of pages (when the memory copies them) and
  /// 128 MiB of rows at most.
  static let defaultMaxNodes = 1 << 16
  /// The budget of this view (tests lower it).
  var maxNodes = defaultMaxNodes

  @exclusivity(unchecked) var nodes: [Node] = []
  /// The pages the nodes point into, kept alive.
  @exclusivity(unchecked) var pages: [Bytes] = []
  @exclusivity(unchecked) var children: [Int32] = []
  @exclusivity(unchecked) var rows: Int32 = 0
  /// Nodes reached from the root through entry 0 of each table, by level;
  /// valid from the root's level down to `chainLevel`.
  @exclusivity(unchecked) var chain: [Int32]
  @exclusivity(unchecked) var chainLevel: Int
  /// Whether entry 0 of the node at `chainLevel` is empty.
  @exclusivity(unchecked) var chainEnded = false
  let tableEntries: Int

  /// The size of every node's page.
  let pageSize: Int

  /// Nodes of `pageSize`-byte pages; `page` (the root) must be one whole page.
  init(root: PhysAddr, page: Bytes, levels: Int, tableEntries: Int, pageSize: Int) throws(DecodeError) {
    self.tableEntries = tableEntries
    self.pageSize = pageSize
    let n = Swift.max(levels, 1)
    chain = Array(repeating: 0, count: n)
    chainLevel = n - 1
    guard append(address: root.rawValue, page: page, isTable: n > 1) != nil else {
      throw DecodeError(.truncated, "the memory map root is not a whole page", address: root)
    }
  }

  /// Adds a node; returns its number, or nil when `page` is not one whole
  /// page (the memory returned fewer bytes than asked).
  func append(address: UInt64, page: Bytes, isTable: Bool) -> Int32? {
    guard page.count == pageSize, let base = page.withUnsafeBytes({ $0.baseAddress }) else { return nil }
    var row: Int32 = -1
    if isTable {
      row = rows
      rows &+= 1
      children.append(contentsOf: repeatElement(-1, count: tableEntries))
    }
    nodes.append(Node(base: base, address: address, row: row))
    pages.append(page)
    return Int32(truncatingIfNeeded: nodes.count - 1)
  }

  /// Forgets every node but the root once more than ``maxNodes`` are kept.
  func trim() {
    guard nodes.count > maxNodes else { return }
    nodes.removeSubrange(1...)
    pages.removeSubrange(1...)
    children.removeSubrange(Swift.min(tableEntries, children.count)...)
    for i in children.indices { children[i] = -1 }
    rows = children.isEmpty ? 0 : 1
    chainLevel = chain.count - 1
    chainEnded = false
  }
}

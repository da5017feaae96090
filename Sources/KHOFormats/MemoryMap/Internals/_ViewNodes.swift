// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// One order's leaf word in ``RadixTreeView/covering(_:orders:)``.
struct _Probe {
  /// The leaf's page.
  var leaf: UnsafeRawPointer
  /// The bit in the leaf (below 2^19: a 64 KiB page's bits).
  var bit: Int32
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
/// Above the rows sit the leaf maps: per order, the leaf page that each
/// leaf number leads to, so a repeated query skips the tables entirely.
/// They hold only while the memory's ``PhysicalMemory/generation`` is the
/// one they were made at; ``restart(root:page:generation:)`` forgets them.
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

  /// One order's leaf map: entry `i` is the leaf of leaf number `i` (the
  /// key less its order bit, shifted right by the leaf's bits).
  struct LeafMap {
    var slots: UnsafeMutablePointer<LeafSlot>? = nil
    var count = 0
  }

  /// What a view knows of one leaf.
  struct LeafSlot {
    /// 0 when not looked up yet, 1 when a table on the way has no entry
    /// for it, and otherwise the address of the leaf's page (a `base` of
    /// ``nodes``).
    var leaf: UInt
    /// Bit `g` set when the leaf has a bit set in its `g`-th 64th: a probe
    /// whose part is empty is answered without touching the leaf.
    var summary: UInt64
  }

  /// Nodes kept before the view starts again from the root: the tables
  /// and leaves of a 2 TiB host's order-0 pages, or of a mixed-order set
  /// on a 1 TiB host; 256 MiB of pages (when the memory copies them) and
  /// 128 MiB of rows at most.
  static let defaultMaxNodes = 1 << 16
  /// The budget of this view (tests lower it).
  var maxNodes = defaultMaxNodes
  /// Leaf numbers a map covers at most (1 MiB an order); a leaf past it
  /// is found through the tables each time.
  static let leafMapLimit = 1 << 16

  @exclusivity(unchecked) var nodes: [Node] = []
  /// The pages the nodes point into, kept alive.
  @exclusivity(unchecked) var pages: [Bytes] = []
  @exclusivity(unchecked) var children: [Int32] = []
  /// Nodes reached from the root through entry 0 of each table, by level;
  /// valid from the root's level down to `chainLevel`.
  @exclusivity(unchecked) var chain: [Int32]
  @exclusivity(unchecked) var chainLevel: Int
  /// Whether entry 0 of the node at `chainLevel` is empty.
  @exclusivity(unchecked) var chainEnded = false
  /// The leaf maps by order (64 of them, made as orders are asked for).
  @exclusivity(unchecked) var leafMaps: [LeafMap] = Array(repeating: LeafMap(), count: 64)
  /// The memory's generation the nodes and maps were read at.
  @exclusivity(unchecked) var generation: UInt64
  let tableEntries: Int
  let levels: Int

  /// The size of every node's page.
  let pageSize: Int

  /// Nodes of `pageSize`-byte pages; `page` (the root) must be one whole page.
  init(
    root: PhysAddr, page: Bytes, levels: Int, tableEntries: Int, pageSize: Int, generation: UInt64
  ) throws(DecodeError) {
    self.tableEntries = tableEntries
    self.pageSize = pageSize
    self.levels = Swift.max(levels, 1)
    self.generation = generation
    chain = Array(repeating: 0, count: self.levels)
    chainLevel = self.levels - 1
    try restart(root: root, page: page, generation: generation)
  }

  deinit { forgetLeafMaps() }

  /// Adds a node; returns its number, or nil when `page` is not one whole
  /// page (the memory returned fewer bytes than asked).
  func append(address: UInt64, page: Bytes, isTable: Bool) -> Int32? {
    guard page.count == pageSize, let base = page.withUnsafeBytes({ $0.baseAddress }) else { return nil }
    var row: Int32 = -1
    if isTable {
      row = Int32(truncatingIfNeeded: children.count / tableEntries)
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
    forgetChain()
  }

  /// Forgets everything and starts from the root page `page`, read at the
  /// memory's `generation`.
  func restart(root: PhysAddr, page: Bytes, generation: UInt64) throws(DecodeError) {
    nodes.removeAll(keepingCapacity: true)
    pages.removeAll(keepingCapacity: true)
    children.removeAll(keepingCapacity: true)
    forgetChain()
    self.generation = generation
    guard append(address: root.rawValue, page: page, isTable: levels > 1) != nil else {
      throw DecodeError(.truncated, "the memory map root is not a whole page", address: root)
    }
  }

  /// Forgets the first-entry chain and the leaf maps, which point at nodes.
  private func forgetChain() {
    chainLevel = chain.count - 1
    chainEnded = false
    forgetLeafMaps()
  }

  private func forgetLeafMaps() {
    for o in leafMaps.indices where leafMaps[o].slots != nil {
      leafMaps[o].slots?.deallocate()
      leafMaps[o] = LeafMap()
    }
  }

  /// The leaf map entry of leaf number `number` for `order` (a zero
  /// `leaf` when not known).
  @inline(__always)
  func leafSlot(order: Int, number: UInt64) -> LeafSlot {
    let m = leafMaps[order]
    guard number < UInt64(m.count), let slots = m.slots else { return LeafSlot(leaf: 0, summary: 0) }
    return slots[Int(number)]
  }

  /// Remembers what leaf number `number` of `order` leads to (`slot`);
  /// `numbers` is how many leaf numbers the order has.
  func remember(order: Int, number: UInt64, numbers: UInt64, slot: LeafSlot) {
    let limit = Swift.min(numbers, UInt64(Self.leafMapLimit))
    guard number < limit else { return }
    var m = leafMaps[order]
    if number >= UInt64(m.count) {
      // Grow to the next power of two that holds `number`, at least 64.
      var count = Swift.max(m.count, 64)
      while UInt64(count) <= number { count <<= 1 }
      count = Int(Swift.min(UInt64(count), limit))
      let grown = UnsafeMutablePointer<LeafSlot>.allocate(capacity: count)
      grown.initialize(repeating: LeafSlot(leaf: 0, summary: 0), count: count)
      if let old = m.slots {
        grown.update(from: old, count: m.count)
        old.deallocate()
      }
      m = LeafMap(slots: grown, count: count)
      leafMaps[order] = m
    }
    m.slots?[Int(number)] = slot
  }
}

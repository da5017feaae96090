import KHOCore

/// Answers "is this preserved?" by descending a radix tree where it lies in
/// memory, without decoding it.
///
/// Each query reads one u64 per level (`depth` reads of 8 bytes) for an
/// exact (address, order) pair; ``covering(_:)`` repeats that for each
/// order and stops at the first hit or empty table entry.
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
    self.cache = _NodeCache(levels: layout.depth)
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
  /// - Throws: ``DecodeError`` when a node on the way is not captured or a
  ///   pointer is not page aligned.
  public func contains(_ phys: PhysAddr, order: Int) throws(DecodeError) -> Bool {
    guard let key = layout.key(PreservedEntry(phys, order: order)) else { return false }
    var node = root
    var level = layout.depth - 1
    while level >= 1 {
      let next = try load(node, level: level, word: layout.tableIndex(key, level: level))
      if next == 0 { return false }
      let child = PhysAddr(next)
      guard child.isPageAligned(layout.geometry) else {
        throw DecodeError(
          .misaligned, "table entry points to \(child), which is not page aligned", path: path,
          address: node)
      }
      node = child
      level -= 1
    }
    let bit = layout.leafBit(key)
    return try load(node, level: 0, word: bit >> 6) & (1 << UInt64(bit & 63)) != 0
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
final class _NodeCache {
  var addresses: [UInt64]
  var pages: [Bytes?]
  init(levels: Int) {
    addresses = Array(repeating: UInt64.max, count: Swift.max(levels, 1))
    pages = Array(repeating: nil, count: Swift.max(levels, 1))
  }
}

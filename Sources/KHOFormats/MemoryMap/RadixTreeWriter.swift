// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Edits a radix tree in a `PhysicalImage` one entry at a time, exactly as
/// the kernel's `kho_radix_add_page()` / `kho_radix_del_page()` do.
///
/// Use it to reproduce a kernel's tree for a given insertion order (nodes
/// are allocated zeroed on demand, top-down, the leaf last) or to build the
/// shapes the kernel leaves behind: removal clears the leaf bit and never
/// frees a node, so empty leaves and tables stay.
///
///     var w = try RadixTreeWriter(image: image, allocator: alloc)
///     try w.add(PhysAddr(0x1_0000_0000), order: 0)
///     try w.preserve(pages: 0x40000..<0x40200)
///     _ = try w.remove(PhysAddr(0x1_0000_0000), order: 0)   // leaf stays, empty
///     w.root
public struct RadixTreeWriter {
  /// The image being written.
  public let image: PhysicalImage
  /// The tree's constants.
  public let layout: RadixLayout
  /// The allocator nodes come from (its `allocated` list is the allocation order).
  public private(set) var allocator: PageAllocator
  /// The root node.
  public let root: PhysAddr

  /// Starts an empty tree: allocates the root (as `kho_init()` does).
  public init(
    image: PhysicalImage, allocator: PageAllocator, depth rule: RadixTree.DepthRule = .plusOne
  ) throws(EncodeError) {
    self.image = image
    self.layout = RadixLayout(geometry: image.geometry, depthRule: rule)
    self.allocator = allocator
    self.root = try self.allocator.allocate(in: image)
  }

  /// Continues the tree at `root` already in `image`.
  public init(
    image: PhysicalImage, root: PhysAddr, allocator: PageAllocator,
    depth rule: RadixTree.DepthRule = .plusOne
  ) {
    self.image = image
    self.layout = RadixLayout(geometry: image.geometry, depthRule: rule)
    self.allocator = allocator
    self.root = root
  }

  private func key(_ phys: PhysAddr, _ order: Int) throws(EncodeError) -> UInt64 {
    guard let k = layout.key(PreservedEntry(phys, order: order)) else {
      throw EncodeError(
        .outOfRange,
        "(\(phys), order \(order)) is not an aligned entry this depth-\(layout.depth) tree can hold")
    }
    return k
  }

  private func child(_ node: PhysAddr, _ index: Int) throws(EncodeError) -> UInt64 {
    do {
      return try image.u64(at: PhysAddr(node.rawValue &+ UInt64(index * 8)))
    } catch {
      throw EncodeError(.outOfRange, "tree node \(node) is not in the image: \(error)")
    }
  }

  /// Marks `2^order` pages at `phys` preserved, allocating missing nodes.
  public mutating func add(_ phys: PhysAddr, order: Int) throws(EncodeError) {
    let k = try key(phys, order)
    var node = root
    var level = layout.depth - 1
    while level >= 1 {
      let idx = layout.tableIndex(k, level: level)
      let next = try child(node, idx)
      if next != 0 {
        node = PhysAddr(next)
      } else {
        let fresh = try allocator.allocate(in: image)
        image.store(fresh.rawValue, at: PhysAddr(node.rawValue &+ UInt64(idx * 8)))
        node = fresh
      }
      level -= 1
    }
    try setBit(leaf: node, layout.leafBit(k), true)
  }

  /// Adds `entry`.
  public mutating func add(_ entry: PreservedEntry) throws(EncodeError) {
    try add(entry.phys, order: entry.order)
  }

  /// Clears the entry's bit; returns whether it was set. Nodes are never freed.
  @discardableResult
  public mutating func remove(_ phys: PhysAddr, order: Int) throws(EncodeError) -> Bool {
    let k = try key(phys, order)
    var node = root
    var level = layout.depth - 1
    while level >= 1 {
      let next = try child(node, layout.tableIndex(k, level: level))
      if next == 0 { return false }
      node = PhysAddr(next)
      level -= 1
    }
    return try setBit(leaf: node, layout.leafBit(k), false)
  }

  @discardableResult
  private func setBit(leaf: PhysAddr, _ bit: Int, _ value: Bool) throws(EncodeError) -> Bool {
    let at = PhysAddr(leaf.rawValue &+ UInt64((bit >> 6) * 8))
    let word: UInt64
    do { word = try image.u64(at: at) } catch {
      throw EncodeError(.outOfRange, "leaf \(leaf) is not in the image: \(error)")
    }
    let mask: UInt64 = 1 << UInt64(bit & 63)
    image.store(value ? word | mask : word & ~mask, at: at)
    return word & mask != 0
  }

  /// Preserves a page-frame range as `kho_preserve_pages()` does.
  public mutating func preserve(pages: Range<UInt64>) throws(EncodeError) {
    for e in PreservedEntry.split(pages: pages, image.geometry) { try add(e) }
  }

  /// Unpreserves a page-frame range as `kho_unpreserve_pages()` does.
  public mutating func unpreserve(pages: Range<UInt64>) throws(EncodeError) {
    for e in PreservedEntry.split(pages: pages, image.geometry) {
      _ = try remove(e.phys, order: e.order)
    }
  }
}

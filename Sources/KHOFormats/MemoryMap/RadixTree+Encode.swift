// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension RadixTree {
  /// Writes `set` as a radix tree into `image`, taking pages from
  /// `allocator`; returns the root's physical address.
  ///
  /// The bytes are what the kernel writes when it starts from an empty tree
  /// and inserts the entries in ascending key order (the walk order: the
  /// largest order first, each order by ascending address), allocating nodes
  /// from the same allocator: the root first, then, for each new leaf, the
  /// missing tables top-down and the leaf last. ``RadixTreeWriter`` replays
  /// any other insertion order.
  ///
  /// Work is word-at-a-time: each leaf is one chunk of the set copied whole.
  ///
  /// - Throws: `EncodeError`: `notRepresentable` when the set's geometry
  ///   differs from the image's, or an entry's order bit lies above the key
  ///   bits the tree indexes (order 0 with `.original` depth on 16 KiB
  ///   pages); `outOfMemory` from the allocator.
  @discardableResult
  public static func encode(
    _ set: PreservedSet, into image: PhysicalImage, allocator: inout PageAllocator,
    depth rule: DepthRule = .plusOne
  ) throws(EncodeError) -> PhysAddr {
    let layout = RadixLayout(geometry: image.geometry, depthRule: rule)
    guard set.geometry == image.geometry, allocator.geometry.pageShift == image.geometry.pageShift
    else {
      throw EncodeError(
        .notRepresentable,
        "set geometry (\(set.geometry)) differs from the image's (\(image.geometry))")
    }
    for o in set.orders where !layout.canStore(order: o) {
      throw EncodeError(
        .notRepresentable,
        "order \(o) needs key bit \(layout.order0Log2 - o), but a depth-\(layout.depth) tree indexes only \(layout.coveredKeyBits) key bits"
      )
    }
    var enc = _RadixEncoder(layout: layout, image: image)
    try enc.start(&allocator)
    let w = layout.leafWords
    let k = layout.order0Log2

    // Leaf 0: orders whose order bit falls inside the leaf bits share it.
    var composite = [UInt64](repeating: 0, count: w)
    var compositeAny: UInt64 = 0
    if k - layout.leafBits + 1 <= set.maxOrder {
      for o in Swift.max(k - layout.leafBits + 1, 0)...set.maxOrder where set.count(order: o) > 0 {
        let orderBit = k - o
        set._forEachIndex(order: o) { j in
          let key = (1 << UInt64(orderBit)) | j
          composite[Int(key >> 6)] |= 1 << (key & 63)
          compositeAny = 1
        }
      }
    }
    if compositeAny != 0 {
      try enc.place(leafPrefix: 0, words: composite, &allocator)
    }

    // Every other leaf is one chunk of one order, in ascending key order:
    // orders descending, chunks ascending.
    var leaf = [UInt64](repeating: 0, count: w)
    var o = Swift.min(k - layout.leafBits, set.maxOrder)
    while o >= 0 {
      let map = set._orders[o]
      let high: UInt64 = 1 << UInt64(k - o - layout.leafBits)
      for i in 0..<map.keys.count {
        map.withChunk(at: i, wordsPerChunk: w) { src in
          leaf.withUnsafeMutableBufferPointer { dst in
            for x in 0..<w { dst[x] = src[x] }
          }
        }
        try enc.place(leafPrefix: high | map.keys[i], words: leaf, &allocator)
      }
      o -= 1
    }
    enc.finish()
    return enc.root
  }
}

/// Builds a tree top-down while leaves arrive in ascending key order,
/// keeping one open table per level and writing each when it is complete.
struct _RadixEncoder {
  let layout: RadixLayout
  let image: PhysicalImage
  private(set) var root = PhysAddr.zero
  /// Per level (index = level, 1 ... depth - 1): the open table.
  private var ident: [UInt64]
  private var address: [PhysAddr]
  private var isOpen: [Bool]
  private var tables: [[UInt64]]
  private var scratch: [UInt64] = []

  init(layout: RadixLayout, image: PhysicalImage) {
    self.layout = layout
    self.image = image
    ident = Array(repeating: 0, count: layout.depth)
    address = Array(repeating: .zero, count: layout.depth)
    isOpen = Array(repeating: false, count: layout.depth)
    tables = Array(
      repeating: [UInt64](repeating: 0, count: layout.tableEntries), count: layout.depth)
  }

  mutating func start(_ allocator: inout PageAllocator) throws(EncodeError) {
    root = try allocator.allocate(in: image)
    let top = layout.depth - 1
    address[top] = root
    isOpen[top] = true
  }

  /// Adds the leaf whose keys are `leafPrefix << leafBits ...`.
  mutating func place(
    leafPrefix: UInt64, words: [UInt64], _ allocator: inout PageAllocator
  ) throws(EncodeError) {
    let key = leafPrefix << UInt64(layout.leafBits)
    let top = layout.depth - 1
    var level = top - 1
    while level >= 1 {
      let id = key >> UInt64(layout.indexShift(level: level + 1))
      if !(isOpen[level] && ident[level] == id) {
        for l in 1...level where isOpen[l] { flush(l) }
        let node = try allocator.allocate(in: image)
        tables[level + 1][layout.tableIndex(key, level: level + 1)] = node.rawValue
        ident[level] = id
        address[level] = node
        isOpen[level] = true
        for x in tables[level].indices { tables[level][x] = 0 }
      }
      level -= 1
    }
    let leaf = try allocator.allocate(in: image)
    tables[1][layout.tableIndex(key, level: 1)] = leaf.rawValue
    words.withUnsafeBufferPointer { _PageWords.store($0, at: leaf, in: image, scratch: &scratch) }
  }

  private mutating func flush(_ level: Int) {
    let at = address[level]
    tables[level].withUnsafeBufferPointer {
      _PageWords.store($0, at: at, in: image, scratch: &scratch)
    }
    isOpen[level] = false
  }

  /// Writes every open table, the root last.
  mutating func finish() {
    for l in 1..<layout.depth where isOpen[l] { flush(l) }
  }
}

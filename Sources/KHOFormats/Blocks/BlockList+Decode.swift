// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The `block-v1` codec: chains of page-sized blocks of fixed-size entries.
///
/// Decoding applies the kernel's restore guards (`kho_block_set_restore`)
/// and reports each as a located `DecodeError`:
/// - a chain that reaches a block twice: `DecodeError/Kind/cycle`;
/// - more than ``BlockLayout/maxBlocks`` blocks:
///   `DecodeError/Kind/limitExceeded`;
/// - a block with `count == 0` or more entries than fit:
///   `DecodeError/Kind/badCount`;
/// - a block address that is not page aligned (blocks are whole pages):
///   `DecodeError/Kind/misaligned`;
/// - a block that is not in captured memory: the memory's error.
///
/// Errors carry the path `<path>/block[i]` and the block's address.
///
///     let layout = BlockLayout(entrySize: 80, geometry: memory.geometry)!
///     let chain = try BlockList.decode(from: memory, head: sessionsPA, layout: layout,
///                                      path: "/LUO/sessions")
///     chain.count          // entries in all blocks
public enum BlockList {
  /// Walks the chain at `head` and gathers its entries; throws the first problem.
  public static func decode(
    from memory: any PhysicalMemory, head: PhysAddr, layout: BlockLayout,
    path: DecodePath = .root
  ) throws(DecodeError) -> BlockChain {
    var problems = DecodeProblems(strict: true)
    var visitor = _NoVisitor()
    return try walk(memory, head, layout, path, &problems, &visitor)
  }

  /// Walks the chain at `head`, recording problems instead of throwing, and
  /// returns every entry it could read.
  ///
  /// Recovery: a block with `count == 0` contributes nothing and the walk
  /// goes on; a count above the block's capacity is clamped to it; an
  /// unreadable or misaligned block ends the chain; a cycle ends the chain
  /// before the first repeated block; the walk stops after
  /// ``BlockLayout/maxBlocks`` blocks.
  public static func decodeReporting(
    from memory: any PhysicalMemory, head: PhysAddr, layout: BlockLayout,
    path: DecodePath = .root
  ) -> DecodeOutcome<BlockChain> {
    var visitor = _NoVisitor()
    return .collect { (problems) throws(DecodeError) in try walk(memory, head, layout, path, &problems, &visitor) }
  }

  /// Walks the chain at `head` and copies its entries into `buffer`,
  /// replacing what it held but keeping its capacity, so a caller that
  /// decodes again and again reuses one allocation. Returns the blocks.
  /// Checks and errors are those of ``decode(from:head:layout:path:)``.
  ///
  /// One pass: each block's entries are copied as soon as its header has
  /// been checked, while its page is still in cache. When it throws,
  /// `buffer` holds the entries of the blocks before the bad one.
  public static func decode(
    from memory: any PhysicalMemory, head: PhysAddr, layout: BlockLayout,
    path: DecodePath = .root, into buffer: inout [UInt8]
  ) throws(DecodeError) -> [BlockChain.Block] {
    var problems = DecodeProblems(strict: true)
    var visitor = _NoVisitor()
    buffer.removeAll(keepingCapacity: true)
    let e = layout.entrySize
    let blocks = try forEachBlock(memory, head, layout, path, &problems, &visitor) {
      (i, b, page) throws(DecodeError) in
      try entries(of: b, index: i, in: page, entrySize: e, path: path).withUnsafeBytes {
        buffer.appendBytes($0)
      }
    }
    return blocks
  }

  /// The shared walker: ``forEachBlock`` follows the chain and checks each
  /// block, keeping a view of its page; then the entries of every block are
  /// copied into one exactly sized buffer with one `memcpy` per block.
  static func walk<V: _BlockVisitor>(
    _ memory: any PhysicalMemory, _ head: PhysAddr, _ layout: BlockLayout,
    _ path: DecodePath, _ problems: inout DecodeProblems, _ visitor: inout V
  ) throws(DecodeError) -> BlockChain {
    var pages: [Bytes] = []
    let blocks = try forEachBlock(memory, head, layout, path, &problems, &visitor) { _, _, page in
      pages.append(page)
    }
    let e = layout.entrySize
    let storage = _EntryStorage(count: blocks.reduce(0) { $0 + $1.count } * e)
    var offset = 0
    for (i, b) in blocks.enumerated() {
      let part = try entries(of: b, index: i, in: pages[i], entrySize: e, path: path)
      guard storage.copy(from: part, sourceOffset: 0, length: part.count, to: offset) else {
        throw DecodeError(
          .inconsistent, "block entries overrun the chain's total", path: path.appending("block", index: i),
          address: b.address)
      }
      offset += part.count
    }
    return BlockChain(layout: layout, head: head, blocks: blocks, entries: storage.bytes)
  }

  /// The entry bytes of block `b` (number `index`) within its `page`.
  static func entries(
    of b: BlockChain.Block, index: Int, in page: Bytes, entrySize e: Int, path: DecodePath
  ) throws(DecodeError) -> Bytes {
    guard let part = page.extracting(BlockLayout.headerSize, count: b.count * e) else {
      throw DecodeError(
        .truncated, "block page shorter than its entries", path: path.appending("block", index: index),
        address: b.address)
    }
    return part
  }

  /// Follows `next` pointers from `head`, applies the guards, and calls
  /// `body` with each accepted block and a view of its page, in chain
  /// order. Returns the accepted blocks.
  ///
  /// A cycle is found at the first block whose address came before, and
  /// ends the chain there; a chain longer than ``BlockLayout/maxBlocks``
  /// ends at the limit.
  static func forEachBlock<V: _BlockVisitor>(
    _ memory: any PhysicalMemory, _ head: PhysAddr, _ layout: BlockLayout,
    _ path: DecodePath, _ problems: inout DecodeProblems, _ visitor: inout V,
    _ body: (Int, BlockChain.Block, Bytes) throws(DecodeError) -> Void
  ) throws(DecodeError) -> [BlockChain.Block] {
    let g = layout.geometry
    let pageSize = g.pageSize
    let capacity = layout.entriesPerBlock
    let order = g.byteOrder
    var blocks: [BlockChain.Block] = []
    var address = head
    // Every block address seen: a loop is found at its first repeat.
    var seen = Set<UInt64>()

    walkLoop: while !address.isZero {
      let i = blocks.count
      if !seen.insert(address.rawValue).inserted {
        let first = blocks.firstIndex { $0.address == address } ?? 0
        try problems.report(
          DecodeError(
            .cycle, "block[\(i - 1)] links back to block[\(first)] at \(address)",
            path: path.appending("block", index: i), address: address))
        break walkLoop
      }
      if i >= BlockLayout.maxBlocks {
        try problems.report(
          DecodeError(
            .limitExceeded,
            "chain is longer than \(BlockLayout.maxBlocks) blocks (KHO_MAX_BLOCKS)",
            path: path.appending("block", index: i), address: address))
        break walkLoop
      }
      guard address.isPageAligned(g) else {
        try problems.report(
          DecodeError(
            .misaligned, "block address \(address) is not page aligned",
            path: path.appending("block", index: i), address: address))
        break walkLoop
      }
      if let stop = visitor.enter(block: address, index: i, chain: path) {
        try problems.report(stop)
        break walkLoop
      }
      let page: Bytes
      do {
        page = try memory.bytes(at: address, count: pageSize)
      } catch {
        var e = error
        e.path = path.appending("block", index: i)
        try problems.report(e)
        break walkLoop
      }
      let (next, rawCount) = page.withWords(order) { ($0.u64(at: 0), $0.u64(at: 8)) }
      var count = Int(clamping: rawCount)
      if rawCount == 0 || rawCount > UInt64(capacity) {
        try problems.report(
          DecodeError(
            .badCount,
            rawCount == 0
              ? "block holds 0 entries; every block of a chain holds at least one"
              : "block claims \(rawCount) entries; at most \(capacity) of \(layout.entrySize) bytes fit",
            path: path.appending("block", index: i),
            address: address.advanced(by: 8)))
        count = Swift.min(count, capacity)
      }
      let block = BlockChain.Block(address: address, count: count)
      try body(i, block, page)
      blocks.append(block)
      address = PhysAddr(next)
    }

    return blocks
  }

}

import KHOCore

/// The `block-v1` codec: chains of page-sized blocks of fixed-size entries.
///
/// Decoding applies the kernel's restore guards (`kho_block_set_restore`)
/// and reports each as a located ``DecodeError``:
/// - a chain that reaches a block twice: ``DecodeError/Kind/cycle``;
/// - more than ``BlockLayout/maxBlocks`` blocks:
///   ``DecodeError/Kind/limitExceeded``;
/// - a block with `count == 0` or more entries than fit:
///   ``DecodeError/Kind/badCount``;
/// - a block address that is not page aligned (blocks are whole pages):
///   ``DecodeError/Kind/misaligned``;
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
  public static func read(
    from memory: any PhysicalMemory, head: PhysAddr, layout: BlockLayout,
    path: DecodePath = .root
  ) -> BlockChainReport {
    var problems = DecodeProblems(strict: false)
    var visitor = _NoVisitor()
    do {
      let chain = try walk(memory, head, layout, path, &problems, &visitor)
      return BlockChainReport(chain: chain, problems: problems.list)
    } catch {
      // Unreachable: a lenient sink never throws. Report it anyway.
      return BlockChainReport(chain: .empty(layout), problems: problems.list + [error])
    }
  }

  /// Walks the chain at `head` and copies its entries into `buffer`,
  /// replacing what it held but keeping its capacity, so a caller that
  /// decodes again and again reuses one allocation. Returns the blocks.
  /// Checks and errors are those of ``decode(from:head:layout:path:)``.
  public static func decode(
    from memory: any PhysicalMemory, head: PhysAddr, layout: BlockLayout,
    path: DecodePath = .root, into buffer: inout [UInt8]
  ) throws(DecodeError) -> [BlockChain.Block] {
    var problems = DecodeProblems(strict: true)
    var visitor = _NoVisitor()
    let (blocks, pages, _) = try headers(memory, head, layout, path, &problems, &visitor)
    buffer.removeAll(keepingCapacity: true)
    let e = layout.entrySize
    for (i, b) in blocks.enumerated() {
      guard let part = pages[i].extracting(BlockLayout.headerSize, count: b.count * e) else {
        throw DecodeError(
          .truncated, "block page shorter than its entries", path: path.appending("block", index: i),
          address: b.address)
      }
      part.withUnsafeBytes { buffer.appendBytes($0) }
    }
    return blocks
  }

  /// The shared walker: ``headers`` follows the chain and checks each
  /// block, keeping a view of its page; then the entries of every block are
  /// copied into one buffer with one `memcpy` per block.
  static func walk<V: _BlockVisitor>(
    _ memory: any PhysicalMemory, _ head: PhysAddr, _ layout: BlockLayout,
    _ path: DecodePath, _ problems: inout DecodeProblems, _ visitor: inout V
  ) throws(DecodeError) -> BlockChain {
    let (blocks, pages, total) = try headers(memory, head, layout, path, &problems, &visitor)
    let e = layout.entrySize
    let storage = _EntryStorage(count: total * e)
    var offset = 0
    for (i, b) in blocks.enumerated() {
      let n = b.count * e
      guard storage.copy(from: pages[i], sourceOffset: BlockLayout.headerSize, length: n, to: offset)
      else {
        throw DecodeError(
          .truncated, "block page shorter than its entries", path: path.appending("block", index: i),
          address: b.address)
      }
      offset += n
    }
    return BlockChain(layout: layout, head: head, blocks: blocks, entries: storage.bytes)
  }

  /// Pass 1: follows `next` pointers from `head`, applies the guards, and
  /// returns the blocks, a view of each block's page, and the entry total.
  static func headers<V: _BlockVisitor>(
    _ memory: any PhysicalMemory, _ head: PhysAddr, _ layout: BlockLayout,
    _ path: DecodePath, _ problems: inout DecodeProblems, _ visitor: inout V
  ) throws(DecodeError) -> (blocks: [BlockChain.Block], pages: [Bytes], total: Int) {
    let g = layout.geometry
    let pageSize = g.pageSize
    let capacity = layout.entriesPerBlock
    let little = g.byteOrder == .little
    var blocks: [BlockChain.Block] = []
    var pages: [Bytes] = []
    var total = 0
    var address = head

    walkLoop: while !address.isZero {
      let i = blocks.count
      if i >= BlockLayout.maxBlocks {
        if let repeatAt = firstRepeat(blocks) {
          let first = blocks.firstIndex { $0.address == blocks[repeatAt].address } ?? 0
          try problems.report(
            DecodeError(
              .cycle,
              "block[\(repeatAt - 1)] links back to block[\(first)] at \(blocks[repeatAt].address)",
              path: path.appending("block", index: repeatAt), address: blocks[repeatAt].address))
          blocks.removeSubrange(repeatAt...)
          pages.removeSubrange(repeatAt...)
          total = blocks.reduce(0) { $0 + $1.count }
        } else {
          try problems.report(
            DecodeError(
              .limitExceeded,
              "chain is longer than \(BlockLayout.maxBlocks) blocks (KHO_MAX_BLOCKS)",
              path: path.appending("block", index: i), address: address))
        }
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
      let (next, rawCount) = page.withUnsafeBytes { raw -> (UInt64, UInt64) in
        let n = raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        let c = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        return little
          ? (UInt64(littleEndian: n), UInt64(littleEndian: c))
          : (UInt64(bigEndian: n), UInt64(bigEndian: c))
      }
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
      blocks.append(BlockChain.Block(address: address, count: count))
      pages.append(page)
      total += count
      address = PhysAddr(next)
    }

    return (blocks, pages, total)
  }

  /// The index of the first block whose address appeared earlier, if any.
  static func firstRepeat(_ blocks: [BlockChain.Block]) -> Int? {
    var seen = Set<UInt64>()
    seen.reserveCapacity(blocks.count)
    for (i, b) in blocks.enumerated() where !seen.insert(b.address.rawValue).inserted {
      return i
    }
    return nil
  }
}

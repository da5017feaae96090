// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension BitmapChunkList {
  /// Reads the chunk list starting at `head` into a ``PreservedSet``,
  /// failing on the first problem. A `head` of 0 is the empty map.
  ///
  /// Empty chunks and empty bitmaps are fine. Problems, each a located
  /// `DecodeError`: a chunk or bitmap outside captured memory
  /// (`notCaptured`/`crossesHole`), a chunk or bitmap pointer that is not
  /// page aligned or a `phys_start` not aligned to the span of its bitmap
  /// (`misaligned`), `num_elms` over the page's capacity (`badCount`), an
  /// order too large to address or set bits that decode past 64-bit
  /// addresses (`outOfRange`), a bitmap pointer of 0 (`missing`), a chunk
  /// reached twice (`cycle`), a bitmap page or a (order, `phys_start`) used
  /// twice (`duplicate`), more than ``maxChunks`` chunks (`limitExceeded`).
  public static func decode(
    from memory: any PhysicalMemory, head: PhysAddr, path: DecodePath = defaultPath
  ) throws(DecodeError) -> PreservedSet {
    var d = _ChunkListDecoder(memory: memory, strict: true, base: path)
    try d.run(head: head)
    d.set._checkInvariants()
    return d.set
  }

  /// Reads the chunk list and keeps going past problems: every entry it
  /// can reach, counts, and every problem (see ``decode(from:head:path:)``).
  public static func decodeReporting(
    from memory: any PhysicalMemory, head: PhysAddr, path: DecodePath = defaultPath
  ) -> DecodeOutcome<DecodedMemoryMap> {
    decodeReporting(from: memory, head: head, path: path, chunkBudget: PreservedSet.maxChunkBytes)
  }

  /// ``decodeReporting(from:head:path:)`` with a smaller chunk budget (tests).
  static func decodeReporting(
    from memory: any PhysicalMemory, head: PhysAddr, path: DecodePath, chunkBudget: Int
  ) -> DecodeOutcome<DecodedMemoryMap> {
    var d = _ChunkListDecoder(memory: memory, strict: false, base: path)
    d.chunkBudget = chunkBudget
    do { try d.run(head: head) } catch { d.problems.record(error) }
    d.set._checkInvariants()
    return DecodeOutcome(DecodedMemoryMap(set: d.set, shape: .bitmapChunks(d.stats)), d.problems)
  }
}

struct _ChunkListDecoder {
  let memory: any PhysicalMemory
  let geometry: PageGeometry
  let base: DecodePath
  var set: PreservedSet
  var stats = BitmapChunkStats()
  var problems: DecodeProblems
  var chunksSeen: Set<UInt64> = []
  var bitmapsSeen: Set<UInt64> = []
  /// Whether the chunk-memory budget was reported (once).
  var overBudget = false
  /// The most bitmap bytes the decode may fill (``PreservedSet/maxChunkBytes``).
  var chunkBudget = PreservedSet.maxChunkBytes
  var rangesSeen: Set<UInt64> = []  // (order << 58) ^ chunk number, per order
  var scratch: [UInt64]

  init(memory: any PhysicalMemory, strict: Bool, base: DecodePath) {
    self.memory = memory
    self.geometry = memory.geometry
    self.problems = DecodeProblems(strict: strict)
    self.base = base
    self.set = PreservedSet(geometry: memory.geometry)
    self.scratch = Array(repeating: 0, count: memory.geometry.pageSize / 8)
  }

  mutating func report(
    _ kind: DecodeError.Kind, _ message: String, path: DecodePath, address: PhysAddr?
  ) throws(DecodeError) {
    let e = DecodeError(kind, message, path: path, address: address)
    try problems.report(e)
  }

  mutating func read(_ page: PhysAddr, path: DecodePath) throws(DecodeError) -> Bytes? {
    do {
      return try memory.bytes(at: page, count: geometry.pageSize)
    } catch {
      var e = error
      e.path = path
      if e.address == nil { e.address = page }
      try problems.report(e)
      return nil
    }
  }

  mutating func run(head: PhysAddr) throws(DecodeError) {
    let order = geometry.byteOrder
    let perChunk = BitmapChunkList.entriesPerChunk(geometry)
    let chunkShift = set.chunkShift
    var at = head
    var index = 0
    while !at.isZero {
      let path = base.appending("chunks", index: index)
      guard index < BitmapChunkList.maxChunks else {
        try report(
          .limitExceeded, "the list is longer than \(BitmapChunkList.maxChunks) chunks",
          path: path, address: at)
        return
      }
      guard at.isPageAligned(geometry) else {
        try report(.misaligned, "chunk pointer \(at) is not page aligned", path: path, address: at)
        return
      }
      guard chunksSeen.insert(at.rawValue).inserted else {
        try report(.cycle, "chunk \(at) is reached a second time", path: path, address: at)
        return
      }
      guard let page = try read(at, path: path) else { return }
      stats.chunks += 1
      let next = _PageWords.word(page, order, at: 0)
      let h = _PageWords.word(page, order, at: 1)
      let chunkOrder = Int(order == .little ? h & 0xffff_ffff : h >> 32)
      let declared = Int(order == .little ? h >> 32 : h & 0xffff_ffff)
      stats.chunkOrders.append(chunkOrder)
      var count = declared
      if declared > perChunk {
        try report(
          .badCount, "num_elms \(declared) exceeds the \(perChunk) entries a chunk page holds",
          path: path, address: PhysAddr(at.rawValue &+ 12))
        count = perChunk
      }
      if declared == 0 { stats.emptyChunks += 1 }
      if chunkOrder > set.maxOrder {
        try report(
          .outOfRange, "order \(chunkOrder) is above \(set.maxOrder), the largest a 64-bit address can hold",
          path: path, address: PhysAddr(at.rawValue &+ 8))
        count = 0
      }
      for e in 0..<count {
        let physStart = _PageWords.word(page, order, at: 2 + 2 * e)
        let bitmap = PhysAddr(_PageWords.word(page, order, at: 3 + 2 * e))
        try entry(
          order: chunkOrder, physStart: physStart, bitmap: bitmap,
          path: path.appending("bitmaps", index: e),
          field: PhysAddr(at.rawValue &+ UInt64(16 + 16 * e)), chunkShift: chunkShift)
      }
      at = PhysAddr(next)
      index += 1
    }
  }

  mutating func entry(
    order o: Int, physStart: UInt64, bitmap: PhysAddr, path: DecodePath, field: PhysAddr,
    chunkShift: Int
  ) throws(DecodeError) {
    let spanShift = chunkShift + o + geometry.pageShift  // log2 of the bytes one bitmap spans
    let aligned = spanShift >= 64 ? physStart == 0 : physStart & ((1 << UInt64(spanShift)) - 1) == 0
    guard aligned else {
      try report(
        .misaligned,
        "phys_start 0x\(String(physStart, radix: 16)) is not aligned to the 2^\(spanShift) bytes an order-\(o) bitmap spans",
        path: path, address: field)
      return
    }
    guard !bitmap.isZero else {
      try report(.missing, "bitmap pointer is 0", path: path, address: field)
      return
    }
    guard bitmap.isPageAligned(geometry) else {
      try report(.misaligned, "bitmap pointer \(bitmap) is not page aligned", path: path, address: field)
      return
    }
    guard bitmapsSeen.insert(bitmap.rawValue).inserted else {
      try report(.duplicate, "bitmap page \(bitmap) is used by a second entry", path: path, address: field)
      return
    }
    let c = spanShift >= 64 ? 0 : physStart >> UInt64(spanShift)
    if !rangesSeen.insert(UInt64(o) << 58 ^ c).inserted {
      try report(
        .duplicate, "a second bitmap for order \(o) at phys_start 0x\(String(physStart, radix: 16))",
        path: path, address: field)
    }
    guard stats.bitmaps < chunkBudget / geometry.pageSize else {
      if overBudget { return }
      overBudget = true
      try report(
        .limitExceeded,
        "more than \(stats.bitmaps) bitmap pages (\(chunkBudget >> 20) MiB), the most a decode may fill; the rest are not read",
        path: path, address: field)
      return
    }
    guard let bytes = try read(bitmap, path: path) else { return }
    stats.bitmaps += 1
    let w = set.wordsPerChunk
    let validBits = set.maxOrder + 1 - o  // j < 2^(64 - pageShift - o)
    if validBits >= chunkShift {
      let added = set._orders[o].orChunk(c, loading: bytes, geometry.byteOrder, wordsPerChunk: w)
      stats.setBits += added
      if added == 0 { stats.emptyBitmaps += 1 }
      return
    }
    // A bitmap of a huge order: only its first 2^validBits bits address memory.
    var words = scratch
    scratch = []
    defer { scratch = words }
    let any = words.withUnsafeMutableBufferPointer { _PageWords.load(bytes, geometry.byteOrder, into: $0) }
    if any == 0 {
      stats.emptyBitmaps += 1
      return
    }
    var outside = 0
    for (i, x) in words.enumerated() where x != 0 {
      stats.setBits += x.nonzeroBitCount
      let lo = i * 64
      var keep = x
      if lo >= 1 << validBits {
        keep = 0
      } else if lo + 64 > 1 << validBits {
        keep = x & ((1 << UInt64((1 << validBits) - lo)) - 1)
      }
      outside += (x & ~keep).nonzeroBitCount
      if keep != 0 {
        _ = set._orders[o].orWord(UInt64(i), keep, chunkShift: chunkShift, wordsPerChunk: w)
      }
    }
    if outside > 0 {
      try report(
        .outOfRange,
        "\(outside) set bit(s) at or above bit \(1 << validBits) decode to addresses past 64 bits for order \(o)",
        path: path, address: bitmap)
    }
  }
}

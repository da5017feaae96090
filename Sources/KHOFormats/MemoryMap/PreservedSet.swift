// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The set of preserved ranges that a preserved-memory map records: pairs of
/// (physical address, order), each naturally aligned (kho-abi.md §3).
///
/// Both map formats, the kho-v1 bitmap chunk list (``BitmapChunkList``) and
/// the kho-v2+ radix tree (``RadixTree``), encode and decode a
/// `PreservedSet`; converting between them goes through it.
///
/// ## Representation
///
/// One bitmap per order over the populated parts of the order-normalised
/// page-number space (`pfn >> order`), cut into chunks of one page worth of
/// bits (`pageSize * 8`: 32768 bits for 4 KiB pages). Chunks are kept in a
/// sorted index of chunk numbers that points into one flat word array per
/// order; nothing is allocated per entry. A chunk spans exactly what one
/// radix leaf or one kho-v1 bitmap page spans, so both codecs move whole
/// chunks with 64-bit word copies.
///
/// Cost: a chunk costs one page plus 16 bytes of index, the same as the
/// kernel's own leaf for it. Dense sets are cheap (2^28 random order-0
/// pages on a 4 TiB host, 25% of its pages, take 128 MiB: 0.5 byte per
/// entry); a set whose entries are all at least 128 MiB apart costs up to
/// one page per entry, which is never more than the radix tree or chunk
/// list it was decoded from.
///
/// Entries may overlap (an order-9 entry and an order-0 entry inside it are
/// two entries), as in the kernel's maps. Iteration is by address, then
/// order; ``forEachInWalkOrder(_:)`` gives the kernel's walk order.
///
///     var set = PreservedSet(geometry: .x86_64)
///     try set.insert(0x1_0000_0000, order: 0)
///     try set.preserve(pages: 0x40000..<0x40400)   // 4 MiB: two order-9 pieces
///     set.contains(pfn: 0x40123)                   // true
///     set.count                                    // 3
public struct PreservedSet: Sendable {
  /// The page size and byte order the set is for.
  public let geometry: PageGeometry
  @usableFromInline var _orders: [_OrderBitmap]

  /// An empty set.
  public init(geometry: PageGeometry = .x86_64) {
    self.geometry = geometry
    self._orders = Array(repeating: _OrderBitmap(), count: 64 - geometry.pageShift)
  }

  /// A set holding `entries`; throws on the first invalid one.
  public init<S: Sequence<PreservedEntry>>(_ entries: S, geometry: PageGeometry = .x86_64)
    throws(EncodeError)
  {
    self.init(geometry: geometry)
    for e in entries { try insert(e) }
  }

  /// The most chunk memory a decoded map may fill (512 MiB): the bitmaps
  /// of 16 TiB of order-0 pages, leaving a verb room under 1 GiB. A map
  /// with more leaves (or kho-v1 bitmap pages) than this holds is refused
  /// as `limitExceeded`, so a dump whose leaves alias one file page cannot
  /// make a decode fill gigabytes.
  public static let maxChunkBytes = 512 << 20

  /// The largest order an entry can have: its size must fit in 64 bits
  /// (51 for 4 KiB pages).
  @inlinable public var maxOrder: Int { 63 - geometry.pageShift }

  /// log2 of the bits per chunk: a page of bits (15 for 4 KiB pages).
  @inlinable public var chunkShift: Int { geometry.pageShift + 3 }

  /// 64-bit words per chunk (512 for 4 KiB pages).
  @inlinable public var wordsPerChunk: Int { geometry.pageSize / 8 }

  /// The number of entries.
  public var count: Int { _orders.reduce(0) { $0 + $1.count } }

  /// Whether the set has no entries.
  public var isEmpty: Bool { _orders.allSatisfy(\.isEmpty) }

  /// The number of entries of `order`.
  public func count(order: Int) -> Int {
    order >= 0 && order < _orders.count ? _orders[order].count : 0
  }

  /// The orders that have at least one entry, ascending.
  public var orders: [Int] { _orders.indices.filter { !_orders[$0].isEmpty } }

  /// The total number of pages, `Σ 2^order` (overlapping entries count twice).
  public var pageCount: UInt64 {
    var total: UInt64 = 0
    for (o, m) in _orders.enumerated() where m.count > 0 {
      total &+= UInt64(m.count) << UInt64(o)
    }
    return total
  }

  /// The total number of bytes, saturating at `UInt64.max`.
  public var byteCount: UInt64 {
    let pages = pageCount
    let shift = UInt64(geometry.pageShift)
    return pages >> (64 - shift) != 0 ? UInt64.max : pages << shift
  }

  /// Heap bytes held by the set's storage (its memory footprint).
  public var memoryBytes: Int {
    _orders.reduce(_orders.capacity * MemoryLayout<_OrderBitmap>.stride) { $0 + $1.memoryBytes }
  }

  // MARK: - Validation

  /// Checks that `pfn` is a valid start of a `2^order`-page entry.
  @inlinable
  func _check(pfn: UInt64, order: Int) throws(EncodeError) {
    guard order >= 0, order <= maxOrder else {
      throw EncodeError(
        .outOfRange, "order \(order) is outside 0...\(maxOrder) for \(geometry.pageSize)-byte pages")
    }
    if pfn & _invalidBits(order: order) == 0 { return }
    guard pfn >> UInt64(64 - geometry.pageShift) == 0 else {
      throw EncodeError(.outOfRange, "page frame 0x\(String(pfn, radix: 16)) is beyond 64-bit addresses")
    }
    guard pfn & ((1 << UInt64(order)) - 1) == 0 else {
      throw EncodeError(
        .outOfRange,
        "address 0x\(String(pfn << UInt64(geometry.pageShift), radix: 16)) is not aligned to order \(order)")
    }
  }

  /// The bits a page frame of `order` (in `0...maxOrder`) must not have:
  /// those below the order's alignment and those beyond 64-bit addresses.
  @inlinable
  func _invalidBits(order: Int) -> UInt64 {
    (1 << UInt64(order) &- 1) | ~((1 << UInt64(64 - geometry.pageShift)) &- 1)
  }

  @inlinable
  func _pfn(_ phys: PhysAddr) throws(EncodeError) -> UInt64 {
    guard phys.isPageAligned(geometry) else {
      throw EncodeError(.outOfRange, "address \(phys) is not page aligned")
    }
    return phys.pfn(geometry)
  }

  // MARK: - Single entries

  /// Inserts the entry of `2^order` pages at page frame `pfn`; returns whether it was new.
  ///
  /// - Throws: `EncodeError` (`outOfRange`) when the order is outside
  ///   `0...maxOrder` or `pfn` is not aligned to it.
  @inlinable @inline(__always) @discardableResult
  public mutating func insert(pfn: UInt64, order: Int) throws(EncodeError) -> Bool {
    defer { _checkInvariantsAfterEntry() }
    // The checks inline; the diagnosis (`_check`) only for a bad frame.
    if order < 0 || order > maxOrder || pfn & _invalidBits(order: order) != 0 {
      try _check(pfn: pfn, order: order)
    }
    return _orders[order].insert(pfn >> UInt64(order), chunkShift: chunkShift, wordsPerChunk: wordsPerChunk)
  }

  /// Inserts an entry of `2^order` pages at each page frame of `pfns`;
  /// returns how many were new.
  ///
  /// The bulk form of ``insert(pfn:order:)`` and the fast way to build a
  /// large set: pages that land in chunks the set already has are set in
  /// one tight loop, so scattered pages cost little more than the cache
  /// miss each one takes (see the README's figures).
  ///
  /// - Throws: `EncodeError` for the first invalid frame, as
  ///   ``insert(pfn:order:)`` does; the frames before it stay inserted.
  @inlinable @discardableResult
  public mutating func insert<S: Sequence<UInt64>>(pfns: S, order: Int) throws(EncodeError) -> Int {
    defer { _checkInvariants() }
    let direct = pfns.withContiguousStorageIfAvailable { buf in
      Result { () throws(EncodeError) -> Int in try _insert(contiguous: buf, order: order) }
    }
    if let direct { return try direct.get() }
    // Other sequences go through a reused batch of 4096 frames.
    var batch: [UInt64] = []
    batch.reserveCapacity(4096)
    var added = 0
    func flush() throws(EncodeError) {
      added += try batch.withUnsafeBufferPointer { buf throws(EncodeError) in
        try _insert(contiguous: buf, order: order)
      }
      batch.removeAll(keepingCapacity: true)
    }
    for pfn in pfns {
      batch.append(pfn)
      if batch.count == 4096 { try flush() }
    }
    try flush()
    return added
  }

  /// ``insert(pfns:order:)`` over contiguous frames.
  @inlinable
  mutating func _insert(contiguous pfns: UnsafeBufferPointer<UInt64>, order: Int) throws(EncodeError) -> Int {
    guard order >= 0, order <= maxOrder else {
      try _check(pfn: 0, order: order)
      return 0
    }
    let (consumed, added) = _orders[order].insert(
      all: pfns, order: order, invalid: _invalidBits(order: order), chunkShift: chunkShift, wordsPerChunk: wordsPerChunk
    )
    if consumed < pfns.count { try _check(pfn: pfns[consumed], order: order) }
    return added
  }

  /// Inserts the entry of `2^order` pages at `phys`; returns whether it was new.
  @inlinable @discardableResult
  public mutating func insert(_ phys: PhysAddr, order: Int = 0) throws(EncodeError) -> Bool {
    try insert(pfn: try _pfn(phys), order: order)
  }

  /// Inserts `entry`; returns whether it was new.
  @inlinable @discardableResult
  public mutating func insert(_ entry: PreservedEntry) throws(EncodeError) -> Bool {
    try insert(entry.phys, order: entry.order)
  }

  /// Removes the entry (exact address and order); returns whether it was there.
  @discardableResult
  public mutating func remove(pfn: UInt64, order: Int) -> Bool {
    defer { _checkInvariantsAfterEntry() }
    guard (try? _check(pfn: pfn, order: order)) != nil else { return false }
    return _orders[order].remove(pfn >> UInt64(order), chunkShift: chunkShift, wordsPerChunk: wordsPerChunk)
  }

  /// Removes the entry (exact address and order); returns whether it was there.
  @discardableResult
  public mutating func remove(_ phys: PhysAddr, order: Int = 0) -> Bool {
    guard phys.isPageAligned(geometry) else { return false }
    return remove(pfn: phys.pfn(geometry), order: order)
  }

  /// Removes `entry`; returns whether it was there.
  @discardableResult
  public mutating func remove(_ entry: PreservedEntry) -> Bool { remove(entry.phys, order: entry.order) }

  /// Whether the set holds exactly this entry (address and order).
  @inlinable
  public func contains(pfn: UInt64, order: Int) -> Bool {
    guard order >= 0, order < _orders.count, pfn & ((1 << UInt64(order)) - 1) == 0 else { return false }
    return _orders[order].contains(pfn >> UInt64(order), chunkShift: chunkShift, wordsPerChunk: wordsPerChunk)
  }

  /// Whether the set holds exactly this entry (address and order).
  @inlinable
  public func contains(_ phys: PhysAddr, order: Int) -> Bool {
    phys.isPageAligned(geometry) && contains(pfn: phys.pfn(geometry), order: order)
  }

  /// Whether the set holds exactly `entry`.
  @inlinable
  public func contains(_ entry: PreservedEntry) -> Bool { contains(entry.phys, order: entry.order) }

  /// Whether page frame `pfn` lies inside any preserved range.
  @inlinable
  public func contains(pfn: UInt64) -> Bool { covering(pfn: pfn) != nil }

  /// The smallest-order entry whose range contains page frame `pfn`, if any.
  public func covering(pfn: UInt64) -> PreservedEntry? {
    guard pfn >> UInt64(64 - geometry.pageShift) == 0 else { return nil }
    for o in 0..<_orders.count where !_orders[o].isEmpty {
      let j = pfn >> UInt64(o)
      if _orders[o].contains(j, chunkShift: chunkShift, wordsPerChunk: wordsPerChunk) {
        return PreservedEntry(PhysAddr((j << UInt64(o)) << UInt64(geometry.pageShift)), order: o)
      }
    }
    return nil
  }

  /// Removes every entry.
  public mutating func removeAll() {
    _orders = Array(repeating: _OrderBitmap(), count: _orders.count)
    _checkInvariants()
  }
}

extension PreservedSet: Equatable {
  /// Two sets are equal when they have the same geometry and the same entries.
  public static func == (a: PreservedSet, b: PreservedSet) -> Bool {
    guard a.geometry == b.geometry else { return false }
    let w = a.wordsPerChunk
    for o in a._orders.indices where !a._orders[o].sameBits(as: b._orders[o], wordsPerChunk: w) {
      return false
    }
    return true
  }
}

extension PreservedSet: CustomStringConvertible {
  public var description: String {
    "PreservedSet(\(count) entries, \(pageCount) pages, orders \(orders))"
  }
}

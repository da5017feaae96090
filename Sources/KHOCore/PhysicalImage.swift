// SPDX-License-Identifier: Apache-2.0
/// A writable, sparse, in-memory image of physical memory, page by page.
///
/// Encoders write handovers into a `PhysicalImage` (pages come from a
/// ``PageAllocator``); decoders and tests read it back through
/// ``PhysicalMemory``. Only pages that were written exist; reading any
/// other address fails with ``DecodeError/Kind/notCaptured``. Reads inside
/// one page are zero-copy views; reads across pages copy.
public final class PhysicalImage: PhysicalMemory {
  public let geometry: PageGeometry
  private var pages: [UInt64: _ByteStorage] = [:]
  private var cachedSegments: [PhysRange]?
  /// Counts the writes, page additions and removals made so far.
  public private(set) var generation: UInt64 = 0

  /// Creates an empty image.
  public init(geometry: PageGeometry = .x86_64) {
    self.geometry = geometry
  }

  /// The number of pages present.
  public var pageCount: Int { pages.count }

  /// The page frame numbers present, ascending.
  public var pageNumbers: [UInt64] { pages.keys.sorted() }

  /// Whether page `pfn` is present.
  public func hasPage(_ pfn: UInt64) -> Bool { pages[pfn] != nil }

  public var segments: [PhysRange] {
    if let cachedSegments { return cachedSegments }
    var out: [PhysRange] = []
    let size = geometry.pageSize64
    for pfn in pageNumbers {
      let start = pfn << UInt64(geometry.pageShift)
      if let last = out.last, last.end == start {
        out[out.count - 1].size += size
      } else {
        out.append(PhysRange(start: PhysAddr(start), size: size))
      }
    }
    cachedSegments = out
    return out
  }

  public func bytes(at address: PhysAddr, count: Int) throws(DecodeError) -> Bytes {
    guard count >= 0 else {
      throw DecodeError(.outOfRange, "negative read length \(count)", address: address)
    }
    let pfn = address.pfn(geometry)
    let off = address.pageOffset(geometry)
    guard let first = pages[pfn] else {
      throw DecodeError(.notCaptured, "address \(address) is not in captured memory", address: address)
    }
    if off + count <= geometry.pageSize {
      return Bytes(_owner: first, base: UnsafeRawPointer(first.base) + off, count: count)
    }
    guard let end = address.advanced(by: UInt64(count)) else {
      throw DecodeError(.outOfRange, "\(count) bytes at \(address) pass the top of memory", address: address)
    }
    guard isCaptured(PhysRange(start: address, size: end.rawValue - address.rawValue)) else {
      throw SegmentIndex.missError(segments, address, count)
    }
    var copy: [UInt8] = []
    copy.reserveCapacity(count)
    var a = address.rawValue
    while a < end.rawValue {
      let p = a >> UInt64(geometry.pageShift)
      let o = Int(a & geometry.pageMask)
      let n = Swift.min(geometry.pageSize - o, Int(end.rawValue - a))
      guard let page = pages[p] else {
        throw SegmentIndex.missError(segments, address, count)
      }
      copy.appendBytes(UnsafeRawBufferPointer(start: page.base + o, count: n))
      a += UInt64(n)
    }
    return Bytes(copy)
  }

  /// Adds a zero-filled page at `pfn` (clearing it if present).
  public func zeroPage(_ pfn: UInt64) {
    generation &+= 1
    if let page = pages[pfn] {
      page.base.initializeMemory(as: UInt8.self, repeating: 0, count: page.count)
    } else {
      pages[pfn] = _ByteStorage(zeroedCount: geometry.pageSize)
      cachedSegments = nil
    }
  }

  /// Removes page `pfn`, making its addresses uncaptured.
  public func removePage(_ pfn: UInt64) {
    generation &+= 1
    if pages.removeValue(forKey: pfn) != nil { cachedSegments = nil }
  }

  /// Writes `data` at `address`, adding zero-filled pages as needed.
  public func write<C: Collection>(_ data: C, at address: PhysAddr) where C.Element == UInt8 {
    generation &+= 1
    // Contiguous input (arrays, buffers, `withUnsafeBytes`) is copied a page
    // run at a time; the element-wise loop below is for other collections.
    let copied: Void? = data.withContiguousStorageIfAvailable { buffer in
      writeContiguous(UnsafeRawBufferPointer(buffer), at: address)
    }
    if copied != nil { return }
    var a = address.rawValue
    var i = data.startIndex
    while i != data.endIndex {
      let pfn = a >> UInt64(geometry.pageShift)
      let off = Int(a & geometry.pageMask)
      if pages[pfn] == nil { zeroPage(pfn) }
      guard let page = pages[pfn] else { return }
      var o = off
      while o < geometry.pageSize, i != data.endIndex {
        page.base.storeBytes(of: data[i], toByteOffset: o, as: UInt8.self)
        o += 1
        i = data.index(after: i)
      }
      a &+= UInt64(o - off)
    }
  }

  /// Copies `raw` to `address` with one `memcpy` per page touched.
  private func writeContiguous(_ raw: UnsafeRawBufferPointer, at address: PhysAddr) {
    var a = address.rawValue
    var done = 0
    while done < raw.count {
      let pfn = a >> UInt64(geometry.pageShift)
      let off = Int(a & geometry.pageMask)
      if pages[pfn] == nil { zeroPage(pfn) }
      guard let page = pages[pfn], let src = raw.baseAddress else { return }
      let n = Swift.min(geometry.pageSize - off, raw.count - done)
      (page.base + off).copyMemory(from: src + done, byteCount: n)
      done += n
      a &+= UInt64(n)
    }
  }

  /// Stores `value` at `address` in the image's byte order.
  public func store<T: FixedWidthInteger>(_ value: T, at address: PhysAddr) {
    let v = geometry.byteOrder == .little ? value.littleEndian : value.bigEndian
    withUnsafeBytes(of: v) { write($0, at: address) }
  }

  /// Stores a NUL-padded string in a field of `size` bytes at `address`.
  ///
  /// The caller checks the length; a string longer than `size - 1` bytes is
  /// cut so that the field always ends in a NUL.
  public func storeCString(_ s: String, fieldSize size: Int, at address: PhysAddr) {
    var field = Array(s.utf8.prefix(Swift.max(size - 1, 0)))
    field.append(contentsOf: repeatElement(0, count: size - field.count))
    write(field, at: address)
  }
}

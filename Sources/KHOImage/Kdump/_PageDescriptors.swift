// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The page descriptors of a kdump-compressed dump, checked before
/// libkdumpfile reads the pages they describe.
///
/// libkdumpfile maps the file and copies from where a descriptor points,
/// so a descriptor past the end of the file would fault (SIGBUS) inside
/// the library. Every read first finds the descriptors of its pages — the
/// n-th set bit of the dump bitmap owns the n-th 24-byte descriptor — and
/// refuses any whose data is not wholly in the file. The descriptors are
/// read with `pread` (24 bytes a page would otherwise stay resident: 6 GiB
/// for a 1 TiB dump); only the bitmaps are read through the mapping.
struct _PageDescriptors {
  private let mapped: _MappedFile
  private let file: Bytes
  private let header: DiskdumpHeader
  /// Set bits of the dump bitmap before each 4096-bit block.
  private let rankBefore: [UInt64]
  private let order: ByteOrder

  /// The file offset of a shared zero page (QEMU points every zero page's
  /// descriptor at one uncompressed page of zeros), when the dump has one.
  let zeroPageOffset: Int64?

  /// Bits per rank block.
  private static let blockBits: UInt64 = 4096

  init(file mapped: _MappedFile, header: DiskdumpHeader) {
    self.mapped = mapped
    let file = mapped.bytes
    self.file = file
    self.header = header
    order = header.littleEndian ? .little : .big
    var ranks: [UInt64] = []
    var total: UInt64 = 0
    let bytesPerBlock = Int(Self.blockBits / 8)
    let bitmapBytes = Int((header.maxMapnr + 7) / 8)
    var at = 0
    while at < bitmapBytes {
      ranks.append(total)
      let n = Swift.min(bytesPerBlock, bitmapBytes - at)
      total += Self.popcount(file, header.dumpBitmapOffset + at, n)
      at += n
    }
    rankBefore = ranks
    // The first uncompressed, full-page descriptors: is one a page of zeros?
    var zero: Int64?
    let n = Int(Swift.min(total, 4096))
    if n > 0, let table = try? mapped.copy(offset: UInt64(header.descriptorsOffset), count: 24 * n) {
      let r = ByteReader(table, order: header.littleEndian ? .little : .big)
      for k in 0..<n {
        guard let off: Int64 = try? r.integer(at: 24 * k), let size: UInt32 = try? r.integer(at: 24 * k + 8),
          let flags: UInt32 = try? r.integer(at: 24 * k + 12)
        else { break }
        guard flags & 0x27 == 0, Int(size) == header.blockSize, off >= 0,
          let page = file.extracting(Int(off), count: header.blockSize)
        else { continue }
        if page.withUnsafeBytes({ $0.allSatisfy { $0 == 0 } }) { zero = off }
        break
      }
    }
    zeroPageOffset = zero
  }

  /// Set bits in `count` bytes at `offset` of the file.
  private static func popcount(_ file: Bytes, _ offset: Int, _ count: Int) -> UInt64 {
    guard let piece = file.extracting(offset, count: count) else { return 0 }
    return piece.withUnsafeBytes { raw in
      var n: UInt64 = 0
      var i = 0
      while i + 8 <= raw.count {
        n += UInt64(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount)
        i += 8
      }
      while i < raw.count {
        n += UInt64(raw[i].nonzeroBitCount)
        i += 1
      }
      return n
    }
  }

  private func isDumped(_ pfn: UInt64) -> Bool {
    guard let byte = file.byte(at: header.dumpBitmapOffset + Int(pfn / 8)) else { return false }
    return byte & (1 << UInt8(pfn % 8)) != 0
  }

  /// The index of `pfn`'s descriptor: the set bits before it.
  private func rank(_ pfn: UInt64) -> UInt64 {
    let block = Int(pfn / Self.blockBits)
    guard block < rankBefore.count else { return rankBefore.last ?? 0 }
    let start = UInt64(block) * Self.blockBits
    var n = rankBefore[block] + Self.popcount(file, header.dumpBitmapOffset + Int(start / 8), Int((pfn - start) / 8))
    var p = pfn & ~7
    while p < pfn {
      if isDumped(p) { n += 1 }
      p += 1
    }
    return n
  }

  /// Checks the descriptor of every dumped page in `pfns`; returns, for
  /// each page of `pfns`, whether it is the shared zero page.
  @discardableResult
  func check(_ pfns: Range<UInt64>) throws(DecodeError) -> [Bool] {
    var zero = [Bool](repeating: false, count: pfns.count)
    for (k, state) in states(pfns).enumerated() {
      switch state {
      case .zero: zero[k] = true
      case .data: break
      case .bad(let error): throw error()
      }
    }
    return zero
  }

  /// What a page's descriptor says, for a scan that leaves bad pages out.
  enum PageState {
    /// Not dumped, or a descriptor inside the file.
    case data
    /// QEMU's shared zero page: nothing to read.
    case zero
    /// A descriptor past the end of the file, or pointing outside it; the
    /// error is made only when asked for.
    case bad(() -> DecodeError)
  }

  /// The state of each page of `pfns`, with one read of their descriptors.
  func states(_ pfns: Range<UInt64>) -> [PageState] {
    var out = [PageState](repeating: .data, count: pfns.count)
    guard !pfns.isEmpty else { return out }
    let block = UInt64(header.blockSize)
    let first = rank(pfns.lowerBound)
    let dumped = pfns.filter { $0 < header.maxMapnr && isDumped($0) }
    guard !dumped.isEmpty else { return out }
    // The descriptors of these pages are consecutive: read them in one go.
    let start = UInt64(header.descriptorsOffset) + 24 * first
    let want = 24 * UInt64(dumped.count)
    let available = start < UInt64(file.count) ? Swift.min(want, UInt64(file.count) - start) : 0
    let table = available > 0 ? ((try? mapped.copy(offset: start, count: Int(available))) ?? Bytes()) : Bytes()
    let r = ByteReader(table, order: order, path: "/diskdump/page_desc")
    let fileSize = file.count
    for (k, pfn) in dumped.enumerated() {
      let index = first + UInt64(k)
      let at = 24 * k
      let address = PhysAddr(pfn &* block)
      let slot = Int(pfn - pfns.lowerBound)
      guard let offset: Int64 = try? r.integer(at: at), let size: UInt32 = try? r.integer(at: at + 8),
        let flags: UInt32 = try? r.integer(at: at + 12)
      else {
        out[slot] = .bad {
          DecodeError(
            .truncated, "the descriptor of page frame \(pfn) (number \(index)) is past the end of the file",
            path: "/diskdump/page_desc", address: address)
        }
        continue
      }
      // An uncompressed page is copied whole, whatever its size says.
      let length = flags & 0x27 == 0 ? UInt64(Swift.max(UInt64(size), block)) : UInt64(size)
      guard offset >= 0, size > 0, UInt64(size) <= block, UInt64(offset) <= UInt64(fileSize),
        length <= UInt64(fileSize) - UInt64(offset)
      else {
        out[slot] = .bad {
          DecodeError(
            .outOfRange,
            "page frame \(pfn): its descriptor puts \(size) bytes (flags 0x\(String(flags, radix: 16))) at offset \(offset), outside the file's \(fileSize) bytes",
            path: "/diskdump/page_desc", address: address)
        }
        continue
      }
      if let z = zeroPageOffset, offset == z, flags & 0x27 == 0 { out[slot] = .zero }
    }
    return out
  }
}

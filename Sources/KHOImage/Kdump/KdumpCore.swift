// SPDX-License-Identifier: Apache-2.0
import CKdumpfile
import Foundation
import KHOCore

/// Physical memory read from a kdump-compressed vmcore through libkdumpfile.
///
/// makedumpfile (kdump's default) and QEMU (`dump-guest-memory -z`, QMP
/// `kdump-zlib`, `kdump-lzo`, `kdump-snappy`) write this format: one
/// compressed page per dumped frame, a bitmap of which frames are there.
/// The captured ranges are the bitmap's runs; pages are decompressed when
/// read, through libkdumpfile's page cache. The header is checked by
/// ``DiskdumpHeader`` before the library sees the file.
public final class KdumpCore: PhysicalMemory {
  public let geometry: PageGeometry
  public let segments: [PhysRange]
  /// The dump's header, as this toolkit read it.
  public let header: DiskdumpHeader
  /// The VMCOREINFO key=value lines, when the dump carries them.
  public let vmcoreinfo: [String: String]

  private let file: _MappedFile
  private let handle: OpaquePointer
  private let descriptors: _PageDescriptors
  private let lock = NSLock()

  /// The most captured runs accepted (a fragmented 4 TiB dump has far fewer).
  public static let maxRuns = 1 << 22

  deinit { kho_kdump_close(handle) }

  /// Opens the dump in `file` (which stays open while this memory lives).
  init(file: _MappedFile, name: String, geometry override: PageGeometry?) throws(DecodeError) {
    let header = try DiskdumpHeader(reading: file.bytes)
    var err = [CChar](repeating: 0, count: 256)
    guard let handle = kho_kdump_open(file.descriptor, &err, err.count) else {
      throw DecodeError(.unsupported, "libkdumpfile cannot open \(name): \(String(cString: err))", path: "/diskdump")
    }
    self.file = file
    self.handle = handle
    self.header = header
    descriptors = _PageDescriptors(file: file, header: header)
    let order: ByteOrder = header.littleEndian ? .little : .big
    // An override sets the page size; the byte order is always the dump's.
    guard let g = PageGeometry(pageSize: override?.pageSize ?? header.blockSize, byteOrder: order) else {
      throw DecodeError(
        .unsupported, "page size \(header.blockSize) is not one this toolkit reads; pass --page-size",
        path: "/diskdump")
    }
    geometry = g
    var runs: [PhysRange] = []
    var pfn: UInt64 = 0
    var start: UInt64 = 0
    var end: UInt64 = 0
    let shift = UInt64(header.blockSize.trailingZeroBitCount)
    while kho_kdump_next_run(handle, &pfn, header.maxMapnr, &start, &end) != 0 {
      guard runs.count < Self.maxRuns else {
        throw DecodeError(.limitExceeded, "more than \(Self.maxRuns) captured runs in \(name)", path: "/diskdump")
      }
      runs.append(PhysRange(start: PhysAddr(start << shift), size: (end - start) << shift))
    }
    segments = runs
    vmcoreinfo = Self.parseVMCOREINFO(kho_kdump_string(handle, "linux.vmcoreinfo.raw").map { String(cString: $0) })
  }

  private static func parseVMCOREINFO(_ text: String?) -> [String: String] {
    var out: [String: String] = [:]
    for line in (text ?? "").split(separator: "\n") {
      guard let eq = line.firstIndex(of: "=") else { continue }
      out[String(line[..<eq])] = String(line[line.index(after: eq)...])
    }
    return out
  }

  public func bytes(at address: PhysAddr, count: Int) throws(DecodeError) -> Bytes {
    guard count >= 0 else {
      throw DecodeError(.outOfRange, "negative read length \(count)", address: address)
    }
    guard isCaptured(PhysRange(start: address, size: UInt64(count))) else {
      throw SegmentIndex.missError(segments, address, count)
    }
    var out = [UInt8](repeating: 0, count: count)
    let failure = out.withUnsafeMutableBytes { p -> DecodeError? in
      do throws(DecodeError) { try read(into: p, at: address) } catch { return error }
      return nil
    }
    if let failure { throw failure }
    return Bytes(out)
  }

  /// Reads captured bytes into `buffer` through libkdumpfile.
  private func read(into buffer: UnsafeMutableRawBufferPointer, at address: PhysAddr) throws(DecodeError) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    let shift = UInt64(header.blockSize.trailingZeroBitCount)
    let last = (address.rawValue &+ UInt64(buffer.count - 1)) >> shift
    try descriptors.check((address.rawValue >> shift)..<(last &+ 1))
    try libraryRead(into: buffer, at: address)
  }

  /// Reads through libkdumpfile, the descriptors already checked.
  private func libraryRead(into buffer: UnsafeMutableRawBufferPointer, at address: PhysAddr) throws(DecodeError) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    var err = [CChar](repeating: 0, count: 256)
    lock.lock()
    let rc = kho_kdump_read(handle, address.rawValue, base, buffer.count, &err, err.count)
    lock.unlock()
    guard rc == 0 else {
      throw DecodeError(
        rc == 1 ? .notCaptured : .unreadable,
        "reading \(buffer.count) bytes at \(address): \(String(cString: err))", path: "/diskdump", address: address)
    }
  }

  /// Streams the dumped pages; a page that cannot be read (a bad
  /// descriptor, data that does not decompress) is skipped, and the first
  /// such error is thrown once the rest has been seen.
  public func scanData(chunk: Int, _ body: (PhysAddr, RawSpan) -> Bool) throws(DecodeError) {
    let page = header.blockSize
    // No larger than the captured pages, and no more pages than the file
    // has 24-byte descriptors for: a small dump gets a small buffer, even
    // when its bitmaps claim more.
    let captured = segments.reduce(UInt64(0)) { $0 &+ $1.size }
    let described = UInt64(file.count / 24 + 1)
    let pages = Swift.max(
      Swift.min(UInt64(chunk / page), (captured + UInt64(page) - 1) / UInt64(page), described), 1)
    let size = Int(pages) * page
    var buffer = [UInt8](repeating: 0, count: size)
    var firstError: DecodeError?
    for seg in segments {
      var a = seg.start.rawValue
      while a < seg.end {
        let n = Int(Swift.min(UInt64(size), seg.end - a))
        let more = buffer.withUnsafeMutableBytes { p -> Bool in
          // Pages that are the shared zero page hold nothing to look for:
          // only the runs between them are read.
          let shift = UInt64(page.trailingZeroBitCount)
          let first = a >> shift
          let count = (n + page - 1) / page
          // Pages whose descriptor is bad are left out (the first is
          // reported), without building an error for each.
          let states = descriptors.states(first..<(first + UInt64(count)))
          func readable(_ k: Int) -> Bool {
            if case .data = states[k] { return true }
            return false
          }
          var i = 0
          while i < count {
            if case .bad(let error) = states[i], firstError == nil { firstError = error() }
            guard readable(i) else {
              i += 1
              continue
            }
            var j = i
            while j < count, readable(j) { j += 1 }
            let off = i * page
            let piece = UnsafeMutableRawBufferPointer(rebasing: p[off..<Swift.min(j * page, n)])
            let at = PhysAddr(a + UInt64(off))
            do throws(DecodeError) {
              try read(into: piece, at: at)
              guard body(at, UnsafeRawBufferPointer(piece).bytes) else { return false }
            } catch {
              // Page by page, leaving out the ones that fail.
              var k = i
              while k < j {
                let one = UnsafeMutableRawBufferPointer(rebasing: p[(k * page)..<Swift.min((k + 1) * page, n)])
                let pa = PhysAddr(a + UInt64(k * page))
                do throws(DecodeError) {
                  try read(into: one, at: pa)
                  guard body(pa, UnsafeRawBufferPointer(one).bytes) else { return false }
                } catch {
                  if firstError == nil { firstError = error }
                }
                k += 1
              }
            }
            i = j
          }
          return true
        }
        guard more else { return }
        a += UInt64(n)
      }
    }
    if let firstError { throw firstError }
  }
}

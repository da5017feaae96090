// SPDX-License-Identifier: Apache-2.0
import Glibc
import KHOCore

/// A read-only memory mapping of a whole file, unmapped with its last use.
///
/// The one place in KHOImage that touches `mmap`. A core file of tens of
/// GiB maps instantly; pages are read from disk only when a decoder looks.
/// The file stays open so that scans can skip its holes (`SEEK_DATA`) and
/// stream it through a buffer (`pread`) instead of faulting in the mapping.
final class _MappedFile: @unchecked Sendable {
  let base: UnsafeRawPointer?
  let count: Int
  private let fd: Int32
  private let name: String

  convenience init(path: String) throws(DecodeError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw DecodeError(.unreadable, "cannot open \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      throw DecodeError(.unreadable, "cannot stat \(path): \(String(cString: strerror(errno)))")
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      throw DecodeError(.unsupported, "\(path) is not a regular file")
    }
    try self.init(fd: fd, size: Int(st.st_size), name: path)
  }

  /// Maps `size` bytes of an open file (the caller keeps `fd` and closes
  /// it; the mapping holds its own descriptor).
  init(fd: Int32, size: Int, name: String) throws(DecodeError) {
    let own = dup(fd)
    guard own >= 0 else {
      throw DecodeError(.unreadable, "cannot keep \(name) open: \(String(cString: strerror(errno)))")
    }
    self.fd = own
    self.name = name
    if size == 0 {
      base = nil
      count = 0
      return
    }
    let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let p, p != MAP_FAILED else {
      close(own)
      throw DecodeError(.unreadable, "cannot map \(name): \(String(cString: strerror(errno)))")
    }
    base = UnsafeRawPointer(p)
    count = size
  }

  deinit {
    if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    close(fd)
  }

  var bytes: Bytes { Bytes(_owner: self, base: base, count: count) }

  /// The open descriptor, for libraries that read the file themselves.
  var descriptor: Int32 { fd }

  /// Drops the mapped pages of `[0, end)` from this process (a sequential
  /// reader calls it behind itself so that what it read does not stay
  /// resident); the file's page cache is untouched.
  func release(upTo end: Int) {
    guard let base else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let n = Swift.min(end, count) / page * page
    if n > 0 { madvise(UnsafeMutableRawPointer(mutating: base), n, MADV_DONTNEED) }
  }

  /// The parts of `[start, end)` that hold data, as file offset ranges:
  /// holes of a sparse file are left out (`SEEK_DATA`/`SEEK_HOLE`). A file
  /// system without hole reporting gives the whole range.
  func dataExtents(_ start: UInt64, _ end: UInt64) -> [Range<UInt64>] {
    let stop = Swift.min(end, UInt64(count))
    var out: [Range<UInt64>] = []
    var at = start
    while at < stop {
      let data = lseek(fd, off_t(at), _seekData)
      if data < 0 {
        if errno == ENXIO { break }  // no data past `at`
        return [start..<stop]
      }
      let d = UInt64(data)
      if d >= stop { break }
      let hole = lseek(fd, off_t(d), _seekHole)
      let h = hole < 0 ? stop : Swift.min(UInt64(hole), stop)
      if h <= d { return [start..<stop] }  // a file system that does not move forward
      out.append(d..<h)
      at = h
    }
    return out
  }

  /// A copy of `count` bytes at `offset`, read with `pread`: for large
  /// reads, which through the mapping would stay resident after their use.
  func copy(offset: UInt64, count: Int) throws(DecodeError) -> Bytes {
    try _PreadFile.read(fd: fd, name: name, offset: offset, count: count)
  }

  /// Streams the data of `[start, end)` through one reused buffer of
  /// `chunk` bytes with `pread`, skipping holes and never touching the
  /// mapping, so nothing read stays resident. `body` gets each piece's file
  /// offset and bytes (valid during the call) and returns `false` to stop;
  /// returns `false` when `body` stopped.
  func streamData(
    _ start: UInt64, _ end: UInt64, chunk: Int, _ body: (UInt64, RawSpan) -> Bool
  ) throws(DecodeError) -> Bool {
    let size = Int(Swift.min(UInt64(Swift.max(chunk, 4096)), Swift.max(end &- start, 4096)))
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
    defer { buffer.deallocate() }
    guard let base = buffer.baseAddress else { return true }
    for extent in dataExtents(start, end) {
      var at = extent.lowerBound
      while at < extent.upperBound {
        let want = Int(Swift.min(UInt64(size), extent.upperBound - at))
        let n = pread(fd, base, want, off_t(at))
        if n < 0 {
          if errno == EINTR { continue }
          throw DecodeError(.unreadable, "read at 0x\(String(at, radix: 16)): \(String(cString: strerror(errno)))")
        }
        if n == 0 { break }
        guard body(at, UnsafeRawBufferPointer(start: base, count: n).bytes) else { return false }
        at += UInt64(n)
      }
    }
    return true
  }
}

/// Linux's `SEEK_DATA` and `SEEK_HOLE` (Glibc exports them only under
/// `_GNU_SOURCE`).
private let _seekData: Int32 = 3
private let _seekHole: Int32 = 4

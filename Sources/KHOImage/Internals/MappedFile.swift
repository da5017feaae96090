import Glibc
import KHOCore

/// A read-only memory mapping of a whole file, unmapped with its last use.
///
/// The one place in KHOImage that touches `mmap`. A core file of tens of
/// GiB maps instantly; pages are read from disk only when a decoder looks.
final class _MappedFile: @unchecked Sendable {
  let base: UnsafeRawPointer?
  let count: Int

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

  /// Maps `size` bytes of an open file (the caller keeps `fd` and closes it).
  init(fd: Int32, size: Int, name: String) throws(DecodeError) {
    if size == 0 {
      base = nil
      count = 0
      return
    }
    let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let p, p != MAP_FAILED else {
      throw DecodeError(.unreadable, "cannot map \(name): \(String(cString: strerror(errno)))")
    }
    base = UnsafeRawPointer(p)
    count = size
  }

  deinit {
    if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
  }

  var bytes: Bytes { Bytes(_owner: self, base: base, count: count) }
}

// SPDX-License-Identifier: Apache-2.0
import Glibc
import KHOCore

/// A file read with `pread` on demand, for files that cannot be mapped
/// (`/proc/kcore`, `/dev/mem`). The one other place in KHOImage that
/// makes system calls.
final class _PreadFile: @unchecked Sendable {
  let fd: Int32
  let path: String

  init(path: String) throws(DecodeError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw DecodeError(.unreadable, "cannot open \(path): \(String(cString: strerror(errno)))")
    }
    self.fd = fd
    self.path = path
  }

  deinit { close(fd) }

  /// Reads exactly `count` bytes at `offset`.
  func read(offset: UInt64, count: Int) throws(DecodeError) -> Bytes {
    try Self.read(fd: fd, name: path, offset: offset, count: count)
  }

  /// Reads exactly `count` bytes at `offset` of the open file `fd`.
  static func read(fd: Int32, name path: String, offset: UInt64, count: Int) throws(DecodeError) -> Bytes {
    guard count > 0 else { return Bytes() }
    guard offset <= UInt64(Int64.max) else {
      throw DecodeError(.outOfRange, "offset 0x\(String(offset, radix: 16)) too large for \(path)")
    }
    var buffer = [UInt8](repeating: 0, count: count)
    var done = 0
    var failure: Int32 = 0
    buffer.withUnsafeMutableBytes { raw in
      while done < count, let base = raw.baseAddress {
        let n = pread(fd, base + done, count - done, off_t(offset) + off_t(done))
        if n < 0 {
          if errno == EINTR { continue }
          failure = errno
          return
        }
        if n == 0 { return }
        done += n
      }
    }
    if failure != 0 {
      throw DecodeError(
        .unreadable, "reading \(path) at 0x\(String(offset, radix: 16)): \(String(cString: strerror(failure)))")
    }
    guard done == count else {
      throw DecodeError(.truncated, "\(path) ends before 0x\(String(offset + UInt64(count), radix: 16))")
    }
    return Bytes(buffer)
  }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import KHOCore

/// An unlinked temporary file written at offsets, runs of zeros left as
/// holes, then mapped: where an input that is not flat memory (a zstd
/// stream, a flattened kdump) is expanded without holding it in memory.
///
/// The file goes in `$TMPDIR` (default `/tmp`) and has no name from the
/// moment it is made, so it disappears when its last use goes or the
/// process ends, however it ends.
final class _SparseTempFile {
  private let fd: Int32
  /// The furthest byte written or skipped.
  private(set) var size = 0

  init() throws(DecodeError) {
    let dir = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array((dir + "/khodump-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { b in b.baseAddress.map { mkstemp($0) } ?? -1 }
    guard fd >= 0 else {
      throw DecodeError(.unreadable, "cannot create a temporary file in \(dir): \(String(cString: strerror(errno)))")
    }
    template.withUnsafeBufferPointer { b in _ = b.baseAddress.map { unlink($0) } }
    self.fd = fd
  }

  deinit { close(fd) }

  /// Writes `bytes` at `offset`; a buffer of zeros is only counted.
  func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(DecodeError) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    // Zeros past everything written so far are a hole already; zeros over
    // written bytes (a flattened dump may rewrite a range) must land.
    let fresh = offset >= size
    size = Swift.max(size, offset + bytes.count)
    if fresh, _isZero(bytes) { return }
    var done = 0
    while done < bytes.count {
      let w = pwrite(fd, base + done, bytes.count - done, off_t(offset + done))
      if w < 0, errno == EINTR { continue }
      guard w > 0 else {
        throw DecodeError(.unreadable, "cannot write the temporary file: \(String(cString: strerror(errno)))")
      }
      done += w
    }
  }

  /// Sizes the file to `size` bytes (at least what was written) and maps it.
  func finish(size total: Int? = nil, name: String) throws(DecodeError) -> _MappedFile {
    let n = Swift.max(total ?? size, size)
    guard ftruncate(fd, off_t(n)) == 0 else {
      throw DecodeError(.unreadable, "cannot size the temporary file: \(String(cString: strerror(errno)))")
    }
    return try _MappedFile(fd: fd, size: n, name: name)
  }
}

/// Whether every byte is zero (word compares, then the tail).
private func _isZero(_ b: UnsafeRawBufferPointer) -> Bool {
  var i = 0
  while i + 8 <= b.count {
    if b.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 { return false }
    i += 8
  }
  while i < b.count {
    if b[i] != 0 { return false }
    i += 1
  }
  return true
}

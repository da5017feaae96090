// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Sparse ELF cores for tests: a header page and one PT_LOAD at physical 0.
enum SparseCore {
  /// Creates `path` as an ELF64 LE core whose one PT_LOAD of `size` bytes
  /// starts at file offset `segmentOffset`, all a hole; returns a handle
  /// for writing its data.
  static func create(_ path: String, size: UInt64, segmentOffset: UInt64 = 4096) throws -> FileHandle {
    var h = [UInt8](repeating: 0, count: 4096)
    func put(_ v: UInt64, _ at: Int, _ n: Int) {
      for i in 0..<n { h[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
    }
    h.replaceSubrange(0..<8, with: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])
    put(4, 16, 2)  // ET_CORE
    put(62, 18, 2)  // EM_X86_64
    put(1, 20, 4)
    put(64, 32, 8)  // e_phoff
    put(64, 52, 2)
    put(56, 54, 2)
    put(1, 56, 2)  // one program header
    put(1, 64, 4)  // PT_LOAD
    put(segmentOffset, 72, 8)
    put(size, 96, 8)
    put(size, 104, 8)
    FileManager.default.createFile(atPath: path, contents: Data(h))
    let f = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try f.truncate(atOffset: segmentOffset + size)
    return f
  }
}

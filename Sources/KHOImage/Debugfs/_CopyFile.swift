// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import KHOCore

/// Reading files of a copied directory without leaving it.
///
/// A file that is a symbolic link must resolve inside the copy; a link
/// that loops or leaves the copy is refused, naming the link. Reads stop
/// at a limit, so a file larger than what it holds costs no more memory
/// than the blob.
enum _CopyFile {
  /// The canonical path, or nil when it cannot be resolved (a loop, a missing target).
  static func realPath(_ path: String) -> String? {
    guard let p = Glibc.realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
  }

  static func isLink(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
  }

  /// Throws when `path` is a link that loops or resolves outside `root`.
  static func checkLink(_ path: String, root: String, label: String) throws(DecodeError) {
    guard isLink(path) else { return }
    let rootReal = realPath(root) ?? root
    guard let target = realPath(path) else {
      let e = errno
      if e == ELOOP {
        throw DecodeError(
          .unreadable, "\(label) in \(root) is a symbolic-link loop", path: DecodePath("/debugfs/" + label))
      }
      return  // a dangling link: the file is simply absent
    }
    guard target == rootReal || target.hasPrefix(rootReal + "/") else {
      throw DecodeError(
        .unreadable, "\(label) is a link to \(target), outside the copied directory \(rootReal); not read",
        path: DecodePath("/debugfs/" + label))
    }
  }

  /// The file's size, if it can be had.
  static func size(_ path: String) -> UInt64? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return UInt64(st.st_size)
  }

  /// Reads at most `limit` bytes of `path` after checking its link.
  static func read(_ path: String, root: String, label: String, limit: Int) throws(DecodeError) -> Bytes {
    try checkLink(path, root: root, label: label)
    // Every directory on the way must stay inside the copy too.
    if let real = realPath(path), let rootReal = realPath(root), !(real == rootReal || real.hasPrefix(rootReal + "/")) {
      throw DecodeError(
        .unreadable, "\(label) resolves to \(real), outside the copied directory \(rootReal); not read",
        path: DecodePath("/debugfs/" + label))
    }
    guard let h = FileHandle(forReadingAtPath: path) else {
      throw DecodeError(
        .unreadable, "cannot read \(label): \(String(cString: strerror(errno)))", path: DecodePath("/debugfs/" + label))
    }
    defer { try? h.close() }
    let data: Data? = try? h.read(upToCount: Swift.max(0, limit)) ?? Data()
    return Bytes(data ?? Data())
  }
}

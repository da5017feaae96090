// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The bytes of an input file, memory-mapped, decompressed when zstd.
public enum InputFile {
  /// The most a compressed input may expand to before it is refused.
  public static let defaultDecompressionLimit = 1 << 40

  /// Reads `path`; a zstd-compressed file is decompressed (up to `limit`).
  ///
  /// Decompression streams into an unlinked, sparse temporary file that is
  /// then mapped (``Zstd/decompressToFile(_:limit:name:check:)``), so
  /// resident memory does not grow with the output. With `image`, the first
  /// bytes must be an ELF core or a DTB, and output past the size their
  /// headers describe is refused: a bomb of zero frames stops at its first
  /// chunk, trailing frames after a core at its end.
  public static func load(_ path: String, limit: Int = defaultDecompressionLimit, image: Bool = false)
    throws(DecodeError) -> Bytes
  {
    try map(path, limit: limit, image: image).bytes
  }

  /// ``load(_:limit:image:)``, keeping the mapped file for scans.
  static func map(_ path: String, limit: Int = defaultDecompressionLimit, image: Bool = false)
    throws(DecodeError) -> _MappedFile
  {
    try unwrap(_MappedFile(path: path), limit: limit, name: path, image: image)
  }

  /// `mapped` itself, or its zstd-decompressed content in a mapped temporary
  /// file (checked as an image when `image`).
  static func unwrap(_ mapped: _MappedFile, limit: Int, name: String, image: Bool) throws(DecodeError) -> _MappedFile {
    guard Zstd.isCompressed(mapped.bytes) else { return mapped }
    return try Zstd.decompressToMappedFile(mapped.bytes, limit: limit, name: name, source: mapped) {
      (head: [UInt8]) throws(DecodeError) -> Int? in
      image ? try imageExtent(head, name: name) : nil
    }
  }

  /// The size an image's headers claim: an ELF64 core's furthest header,
  /// table or segment byte, a DTB's `totalsize`; refuses anything else.
  static func imageExtent(_ h: [UInt8], name: String) throws(DecodeError) -> Int? {
    if h.count >= 4, Array(h[0..<4]) == [0x7f, 0x45, 0x4c, 0x46] { return elfExtent(h) }
    // kdump-compressed and flattened dumps make no size claim in their first bytes.
    if h.count >= 8, Array(h[0..<8]) == DiskdumpHeader.signature { return nil }
    if h.count >= 16, Array(h[0..<12]) == FlattenedDump.signature { return nil }
    if h.count >= 8, Array(h[0..<4]) == [0xd0, 0x0d, 0xfe, 0xed] {
      return Int(h[4]) << 24 | Int(h[5]) << 16 | Int(h[6]) << 8 | Int(h[7])
    }
    let shown = h.prefix(8).map { String($0, radix: 16) }.joined(separator: " ")
    throw DecodeError(
      .badMagic,
      "\(name) decompresses to neither an ELF core, a kdump-compressed dump nor a DTB (it starts with \(shown.isEmpty ? "nothing" : shown))",
      path: "/zstd")
  }

  /// The end of the furthest byte an ELF64 header describes, when its
  /// program headers are within `h`; `nil` when they are not (no claim).
  static func elfExtent(_ h: [UInt8]) -> Int? {
    guard h.count >= 64, h[4] == 2, h[5] == 1 || h[5] == 2 else { return nil }
    let little = h[5] == 1
    func u(_ o: Int, _ n: Int) -> Int? {
      guard o >= 0, o + n <= h.count else { return nil }
      var v: UInt64 = 0
      for i in 0..<n { v |= UInt64(h[o + (little ? i : n - 1 - i)]) << (8 * UInt64(i)) }
      return v > UInt64(Int.max >> 2) ? nil : Int(v)
    }
    guard let phoff = u(32, 8), let shoff = u(40, 8), let phentsize = u(54, 2), let phnum = u(56, 2),
      let shentsize = u(58, 2), let shnum = u(60, 2)
    else { return nil }
    var end = Swift.max(64, phoff + phentsize * phnum, shnum == 0 ? 0 : shoff + shentsize * shnum)
    // Section contents count too (QEMU ends its dumps with a .shstrtab).
    if shentsize >= 64 {
      for i in 0..<shnum {
        guard let type = u(shoff + i * shentsize + 4, 4), let off = u(shoff + i * shentsize + 24, 8),
          let size = u(shoff + i * shentsize + 32, 8)
        else { return nil }
        if type != 8 { end = Swift.max(end, off + size) }  // SHT_NOBITS holds no bytes
      }
    }
    guard phentsize >= 56 else { return end }
    for i in 0..<phnum {
      guard let off = u(phoff + i * phentsize + 8, 8), let size = u(phoff + i * phentsize + 32, 8) else { return nil }
      end = Swift.max(end, off + size)
    }
    return end
  }
}

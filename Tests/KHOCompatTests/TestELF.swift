// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Builds small ELF64 files with section headers, written independently of
/// the reader under test (so a shared misunderstanding cannot hide).
enum TestELF {
  struct Section {
    var name: String
    var type: UInt32 = 1  // SHT_PROGBITS
    var data: [UInt8]
    var address: UInt64 = 0xffff_ffff_8200_0000
    var align: UInt64 = 8
  }

  struct Built {
    var bytes: [UInt8]
    var shoff: Int
    var shstrndx: Int
    /// File offset of each section's data, by index in the table (0 = null section).
    var dataOffsets: [Int]

    /// Offset of section header `i`.
    func header(_ i: Int) -> Int { shoff + 64 * i }
  }

  static func put(_ v: UInt64, size: Int, at off: Int, in b: inout [UInt8], order: ByteOrder) {
    for i in 0..<size {
      let byte = UInt8((v >> (8 * UInt64(i))) & 0xff)
      b[off + (order == .little ? i : size - 1 - i)] = byte
    }
  }

  /// A vmlinux-like file: header, section data, name table, section headers.
  static func build(_ sections: [Section], order: ByteOrder = .little, type: UInt16 = 2) -> Built {
    var names: [UInt8] = [0]
    var nameOffsets: [Int] = []
    for s in sections + [Section(name: ".shstrtab", type: 3, data: [], address: 0, align: 1)] {
      nameOffsets.append(names.count)
      names += Array(s.name.utf8) + [0]
    }
    var b = [UInt8](repeating: 0, count: 64)
    var offsets = [0]
    for s in sections {
      while b.count % 8 != 0 { b.append(0) }
      offsets.append(b.count)
      b += s.data
    }
    let strOff = b.count
    offsets.append(strOff)
    b += names
    while b.count % 8 != 0 { b.append(0) }
    let shoff = b.count
    let all = sections + [Section(name: ".shstrtab", type: 3, data: names, address: 0, align: 1)]
    b += [UInt8](repeating: 0, count: 64 * (all.count + 1))
    for (k, s) in all.enumerated() {
      let h = shoff + 64 * (k + 1)
      put(UInt64(nameOffsets[k]), size: 4, at: h, in: &b, order: order)
      put(UInt64(s.type), size: 4, at: h + 4, in: &b, order: order)
      put(2, size: 8, at: h + 8, in: &b, order: order)  // SHF_ALLOC
      put(s.address, size: 8, at: h + 16, in: &b, order: order)
      put(UInt64(offsets[k + 1]), size: 8, at: h + 24, in: &b, order: order)
      put(UInt64(s.data.count), size: 8, at: h + 32, in: &b, order: order)
      put(s.align, size: 8, at: h + 48, in: &b, order: order)
    }
    b[0] = 0x7f; b[1] = 0x45; b[2] = 0x4c; b[3] = 0x46
    b[4] = 2
    b[5] = order == .little ? 1 : 2
    b[6] = 1
    put(UInt64(type), size: 2, at: 16, in: &b, order: order)
    put(62, size: 2, at: 18, in: &b, order: order)  // EM_X86_64
    put(1, size: 4, at: 20, in: &b, order: order)
    put(UInt64(shoff), size: 8, at: 40, in: &b, order: order)
    put(64, size: 2, at: 52, in: &b, order: order)
    put(64, size: 2, at: 58, in: &b, order: order)
    put(UInt64(all.count + 1), size: 2, at: 60, in: &b, order: order)
    put(UInt64(all.count), size: 2, at: 62, in: &b, order: order)
    return Built(bytes: b, shoff: shoff, shstrndx: all.count, dataOffsets: offsets)
  }

  /// The RFC section bytes, written by hand: magic, version, 48-byte slots.
  static func section(_ strings: [String], order: ByteOrder = .little, magic: UInt32 = 0x4c56_5550, version: UInt32 = 1)
    -> [UInt8]
  {
    var b = [UInt8](repeating: 0, count: 8 + 48 * strings.count)
    put(UInt64(magic), size: 4, at: 0, in: &b, order: order)
    put(UInt64(version), size: 4, at: 4, in: &b, order: order)
    for (i, s) in strings.enumerated() {
      for (j, c) in s.utf8.prefix(48).enumerated() { b[8 + 48 * i + j] = c }
    }
    return b
  }

  /// A vmlinux with a `.text` section and the version section.
  static func vmlinux(_ strings: [String], order: ByteOrder = .little) -> Built {
    build(
      [
        Section(name: ".text", data: [0x90, 0x90, 0xc3], align: 16),
        Section(name: ".liveupdate_versions", data: section(strings, order: order)),
      ], order: order)
  }
}

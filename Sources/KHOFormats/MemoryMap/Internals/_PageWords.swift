// SPDX-License-Identifier: Apache-2.0
import KHOCore

// Moving pages of 64-bit words between PhysicalMemory/PhysicalImage and
// word buffers, in the image's byte order. The map codecs do all their page
// I/O through these two functions.

enum _PageWords {
  /// Loads `buffer.count` words from `bytes` in `order`, zeros past its
  /// end; returns the OR of all words (0 = all zero).
  @inlinable
  static func load(
    _ bytes: Bytes, _ order: ByteOrder, into buffer: UnsafeMutableBufferPointer<UInt64>
  ) -> UInt64 {
    bytes.withWords(order) { $0.copyWords(into: buffer) }
  }

  /// Loads word `index` of `bytes` in `order` (0 when out of range).
  @inlinable
  static func word(_ bytes: Bytes, _ order: ByteOrder, at index: Int) -> UInt64 {
    bytes.withWords(order) { $0.word(index) }
  }

  /// Writes `words` at `address` in the image's byte order.
  static func store(
    _ words: UnsafeBufferPointer<UInt64>, at address: PhysAddr, in image: PhysicalImage,
    scratch: inout [UInt64]
  ) {
    let little = image.geometry.byteOrder == .little
    if scratch.count < words.count { scratch = [UInt64](repeating: 0, count: words.count) }
    scratch.withUnsafeMutableBufferPointer { out in
      for i in 0..<words.count { out[i] = little ? words[i].littleEndian : words[i].bigEndian }
      image.write(
        UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: out[0..<words.count])), at: address)
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import KHOCore

@Suite("Bytes")
struct BytesTests {
  /// Equality compares a word at a time and then the tail: a difference
  /// in any byte of any length is seen, in the words and in the tail, and
  /// views at other offsets of one buffer compare by content.
  @Test func equalityFindsEveryByte() {
    for n in 0..<40 {
      let a = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
      #expect(Bytes(a) == Bytes(a))
      #expect(Bytes(a) != Bytes(a + [0]))
      for i in 0..<n {
        var b = a
        b[i] ^= 0x80
        #expect(Bytes(a) != Bytes(b), "length \(n), byte \(i)")
      }
    }
    let whole = Bytes([1, 2, 3, 1, 2, 3, 4])
    #expect(whole.extracting(0, count: 3) == whole.extracting(3, count: 3))
    #expect(whole.extracting(0, count: 4) != whole.extracting(3, count: 4))
    #expect(whole.extracting(2, count: 0) == Bytes())
  }
}

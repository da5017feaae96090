// SPDX-License-Identifier: Apache-2.0
extension Array where Element == UInt8 {
  /// Appends raw bytes with one bulk copy.
  ///
  /// `append(contentsOf:)` with an `UnsafeRawBufferPointer` goes through the
  /// generic sequence path, one byte at a time; decoders that move whole
  /// pages use this instead.
  @inlinable
  public mutating func appendBytes(_ raw: UnsafeRawBufferPointer) {
    guard let base = raw.baseAddress, raw.count > 0 else { return }
    append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: raw.count))
  }
}

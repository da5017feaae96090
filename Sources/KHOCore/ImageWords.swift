// SPDX-License-Identifier: Apache-2.0
/// Integers loaded from image bytes in the image's byte order.
///
/// This is the one place in the toolkit that reads multi-byte integers out
/// of raw memory: ``ByteReader``, the memory-map, block-list, memfd, vmalloc
/// and xarray codecs and the zero-copy views all load through it. A value
/// is made over a buffer for the length of one call (``Bytes/withWords(_:_:)``)
/// and must not escape it.
///
/// Every load is checked against the buffer; a load that does not fit
/// returns 0, so callers check lengths first and throw their own located
/// errors. Nothing here traps on input.
@frozen
public struct _ImageWords {
  @usableFromInline let _raw: UnsafeRawBufferPointer
  @usableFromInline let _little: Bool

  /// Loads from `raw` in `order`; `raw` must outlive the value.
  @inlinable
  public init(_ raw: UnsafeRawBufferPointer, order: ByteOrder) {
    self._raw = raw
    self._little = order == .little
  }

  /// The number of bytes.
  @inlinable public var byteCount: Int { _raw.count }

  /// The number of whole 64-bit words.
  @inlinable public var wordCount: Int { _raw.count / 8 }

  /// The integer of type `T` at byte `offset`; 0 when it does not fit.
  @inlinable @inline(__always)
  public func load<T: FixedWidthInteger>(_: T.Type = T.self, at offset: Int) -> T {
    let size = MemoryLayout<T>.size
    guard offset >= 0, offset <= _raw.count &- size, let base = _raw.baseAddress else { return 0 }
    let v = base.loadUnaligned(fromByteOffset: offset, as: T.self)
    return _little ? T(littleEndian: v) : T(bigEndian: v)
  }

  /// The u64 at byte `offset`; 0 when it does not fit.
  @inlinable @inline(__always)
  public func u64(at offset: Int) -> UInt64 { load(UInt64.self, at: offset) }

  /// Word `index` (the u64 at byte `index * 8`); 0 when out of range.
  @inlinable @inline(__always)
  public func word(_ index: Int) -> UInt64 {
    guard index >= 0, index < wordCount else { return 0 }
    return _word(index)
  }

  /// Word `index`, which the caller has checked is below ``wordCount``.
  @inlinable @inline(__always)
  func _word(_ index: Int) -> UInt64 {
    // The caller's check keeps the load inside the buffer.
    guard let base = _raw.baseAddress else { return 0 }
    return Self._u64(base, at: index &* 8, _little ? .little : .big)
  }

  /// The u64 at `offset` bytes from `pointer`, for a view that checked when
  /// it was built that every offset it will load lies inside one mapping.
  @inlinable @inline(__always)
  public static func _u64(_ pointer: UnsafeRawPointer, at offset: Int, _ order: ByteOrder) -> UInt64 {
    let v = pointer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
    return order == .little ? UInt64(littleEndian: v) : UInt64(bigEndian: v)
  }

  /// Copies the first `buffer.count` words into `buffer`, zeros past the
  /// end of the bytes; returns the OR of every word (0: all zero).
  @inlinable
  public func copyWords(into buffer: UnsafeMutableBufferPointer<UInt64>) -> UInt64 {
    let n = Swift.min(buffer.count, wordCount)
    var any: UInt64 = 0
    for i in 0..<n {
      let w = _word(i)
      buffer[i] = w
      any |= w
    }
    for i in n..<buffer.count { buffer[i] = 0 }
    return any
  }
}

extension Bytes {
  /// Calls `body` with loads over these bytes in `order`.
  @inlinable
  public func withWords<R, E: Error>(_ order: ByteOrder, _ body: (_ImageWords) throws(E) -> R) throws(E) -> R {
    try withUnsafeBytes { (raw) throws(E) -> R in try body(_ImageWords(raw, order: order)) }
  }
}

// SPDX-License-Identifier: Apache-2.0
/// An immutable, cheaply copyable view of bytes, with its owner kept alive.
///
/// `Bytes` is what ``PhysicalMemory`` hands out: a window onto captured
/// memory that stays valid for as long as the value lives, whether it points
/// into a page of a ``PhysicalImage``, into a memory-mapped core file, or
/// into a private copy. Reading never copies. Bytes handed out by a
/// ``PhysicalImage`` are a view: a later write to the image shows through.
///
/// Use ``ByteReader`` to decode integers and strings with bounds checks, or
/// ``withRawSpan(_:)`` for hot loops.
public struct Bytes: @unchecked Sendable {
  @usableFromInline let _owner: AnyObject?
  @usableFromInline let _base: UnsafeRawPointer?
  /// The number of bytes.
  public let count: Int

  /// Copies `bytes` into new storage.
  public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
    let storage = _ByteStorage(copying: bytes)
    self.init(_owner: storage, base: UnsafeRawPointer(storage.base), count: storage.count)
  }

  /// An empty value.
  public init() { self.init(_owner: nil, base: nil, count: 0) }

  /// Wraps memory that `owner` keeps alive. For loaders (mapped files).
  ///
  /// The caller promises that `base ..< base + count` stays readable and
  /// unchanged while `owner` is alive.
  @inlinable
  public init(_owner owner: AnyObject?, base: UnsafeRawPointer?, count: Int) {
    self._owner = owner
    self._base = count > 0 ? base : nil
    self.count = count > 0 ? count : 0
  }

  /// Whether there are no bytes.
  @inlinable public var isEmpty: Bool { count == 0 }

  /// A sub-range of the bytes, or `nil` if it does not fit.
  @inlinable
  public func extracting(_ offset: Int, count n: Int) -> Bytes? {
    guard offset >= 0, n >= 0, offset <= count, n <= count - offset else { return nil }
    return Bytes(_owner: _owner, base: _base.map { $0 + offset }, count: n)
  }

  /// The byte at `offset`, or `nil` when out of range.
  @inlinable
  public func byte(at offset: Int) -> UInt8? {
    guard offset >= 0, offset < count, let b = _base else { return nil }
    return b.load(fromByteOffset: offset, as: UInt8.self)
  }

  /// Calls `body` with the bytes as a `RawSpan`.
  @inlinable
  public func withRawSpan<R, E: Error>(_ body: (RawSpan) throws(E) -> R) throws(E) -> R {
    let buffer = UnsafeRawBufferPointer(start: _base, count: count)
    return try body(buffer.bytes)
  }

  /// Calls `body` with an unsafe buffer over the bytes.
  @inlinable
  public func withUnsafeBytes<R, E: Error>(
    _ body: (UnsafeRawBufferPointer) throws(E) -> R
  ) throws(E) -> R {
    try body(UnsafeRawBufferPointer(start: _base, count: count))
  }

  /// A copy of the bytes as an array.
  public var array: [UInt8] {
    withUnsafeBytes { Array($0) }
  }
}

extension Bytes: Equatable {
  public static func == (a: Bytes, b: Bytes) -> Bool {
    guard a.count == b.count else { return false }
    if a.count == 0 { return true }
    return a.withUnsafeBytes { pa in
      b.withUnsafeBytes { pb in
        guard let x = pa.baseAddress, let y = pb.baseAddress else { return false }
        if x == y { return true }
        // A word at a time, then the tail: the counts are equal.
        let n = pa.count
        var i = 0
        while i &+ 8 <= n {
          let u = x.loadUnaligned(fromByteOffset: i, as: UInt64.self)
          guard u == y.loadUnaligned(fromByteOffset: i, as: UInt64.self) else { return false }
          i &+= 8
        }
        while i < n {
          guard x.load(fromByteOffset: i, as: UInt8.self) == y.load(fromByteOffset: i, as: UInt8.self) else {
            return false
          }
          i &+= 1
        }
        return true
      }
    }
  }
}

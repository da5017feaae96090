// SPDX-License-Identifier: Apache-2.0
/// A bounds-checked cursor that decodes integers and strings from ``Bytes``.
///
/// Integers are read in the byte order given at creation (the handover's
/// native order for KHO structs; big-endian for FDT headers). Every failure
/// is a ``DecodeError`` that carries the byte offset, the physical address
/// when the bytes came from ``PhysicalMemory``, and the reader's path.
///
///     var r = ByteReader(bytes, order: .little, path: "/LUO", base: addr)
///     let next = try r.u64()
///     let count = try r.u64()
///     let name = try r.cString(fixedSize: 64)
public struct ByteReader: Sendable {
  /// The bytes being read.
  public let bytes: Bytes
  /// The byte order of multi-byte integers.
  public let order: ByteOrder
  /// The path reported in errors.
  public var path: DecodePath
  /// The physical address of `bytes[0]`, if the bytes came from memory.
  public let base: PhysAddr?
  /// The offset of the next read.
  public private(set) var offset: Int = 0

  public init(_ bytes: Bytes, order: ByteOrder, path: DecodePath = .root, base: PhysAddr? = nil) {
    self.bytes = bytes
    self.order = order
    self.path = path
    self.base = base
  }

  /// Bytes left after the cursor.
  @inlinable public var remaining: Int { bytes.count - offset }

  /// Whether the cursor is at the end.
  @inlinable public var isAtEnd: Bool { offset >= bytes.count }

  /// Makes an error located at `offset` (default: the cursor).
  public func error(_ kind: DecodeError.Kind, _ message: String, at offset: Int? = nil) -> DecodeError {
    let off = offset ?? self.offset
    let address = base.flatMap { $0.advanced(by: UInt64(Swift.max(off, 0))) }
    return DecodeError(
      kind, message, path: path, address: address, offset: address == nil ? off : nil)
  }

  /// Moves the cursor to `offset`.
  public mutating func seek(to offset: Int) throws(DecodeError) {
    guard offset >= 0, offset <= bytes.count else {
      throw error(.outOfRange, "seek to \(offset) outside \(bytes.count) bytes", at: offset)
    }
    self.offset = offset
  }

  /// Skips `count` bytes.
  public mutating func skip(_ count: Int) throws(DecodeError) {
    try require(count)
    offset += count
  }

  func require(_ count: Int) throws(DecodeError) {
    guard count >= 0, count <= bytes.count - offset else {
      throw error(.truncated, "need \(count) bytes, \(Swift.max(bytes.count - offset, 0)) left")
    }
  }

  /// Reads an integer of type `T` at `offset` without moving the cursor.
  @inlinable
  public func integer<T: FixedWidthInteger>(at offset: Int, as: T.Type = T.self) throws(DecodeError) -> T {
    let size = MemoryLayout<T>.size
    guard offset >= 0, size <= bytes.count, offset <= bytes.count - size else {
      throw error(.truncated, "need \(size) bytes at offset \(offset), have \(bytes.count)", at: offset)
    }
    return bytes.withWords(order) { $0.load(T.self, at: offset) }
  }

  /// Reads an integer of type `T` and advances.
  public mutating func integer<T: FixedWidthInteger>(as: T.Type = T.self) throws(DecodeError) -> T {
    let v: T = try integer(at: offset)
    offset += MemoryLayout<T>.size
    return v
  }

  public mutating func u8() throws(DecodeError) -> UInt8 { try integer() }
  public mutating func u16() throws(DecodeError) -> UInt16 { try integer() }
  public mutating func u32() throws(DecodeError) -> UInt32 { try integer() }
  public mutating func u64() throws(DecodeError) -> UInt64 { try integer() }

  /// Reads a u64 physical address and advances.
  public mutating func address() throws(DecodeError) -> PhysAddr { PhysAddr(try u64()) }

  /// Reads `count` bytes as a sub-view and advances.
  public mutating func bytes(count: Int) throws(DecodeError) -> Bytes {
    try require(count)
    guard let b = bytes.extracting(offset, count: count) else {
      throw error(.truncated, "need \(count) bytes")
    }
    offset += count
    return b
  }

  /// Reads a fixed-size, NUL-padded C string field and advances past it.
  ///
  /// The string ends at the first NUL. With `requireTerminator`, a field
  /// that holds no NUL at all is an error (the kernel's `strscpy` always
  /// leaves one). Invalid UTF-8 is an error: KHO strings are ASCII.
  public mutating func cString(fixedSize size: Int, requireTerminator: Bool = true)
    throws(DecodeError) -> String
  {
    let start = offset
    let field = try bytes(count: size)
    let raw = field.array
    let end = raw.firstIndex(of: 0)
    if end == nil && requireTerminator {
      throw error(.badString, "string field of \(size) bytes has no NUL terminator", at: start)
    }
    guard let s = String(validating: raw[..<(end ?? raw.count)], as: UTF8.self) else {
      throw error(.badString, "string is not valid UTF-8", at: start)
    }
    return s
  }

  /// Reads a NUL-terminated string of at most `limit` bytes (NUL included).
  public mutating func cString(limit: Int) throws(DecodeError) -> String {
    let start = offset
    let n = Swift.min(limit, remaining)
    var len = 0
    while len < n, bytes.byte(at: offset + len) != 0 { len += 1 }
    guard len < n else {
      throw error(.badString, "string not terminated within \(n) bytes", at: start)
    }
    let raw = try bytes(count: len).array
    offset += 1
    guard let s = String(validating: raw, as: UTF8.self) else {
      throw error(.badString, "string is not valid UTF-8", at: start)
    }
    return s
  }
}

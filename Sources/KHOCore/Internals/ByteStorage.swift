// SPDX-License-Identifier: Apache-2.0
// The one place in KHOCore that owns raw memory. Every `Bytes` value points
// into a `_ByteStorage` (or into an owner supplied by a loader, such as a
// memory-mapped file) and keeps it alive.

/// Heap memory of a fixed size, zero-filled, freed with its last reference.
@usableFromInline
final class _ByteStorage: @unchecked Sendable {
  @usableFromInline let base: UnsafeMutableRawPointer
  @usableFromInline let count: Int

  @usableFromInline
  init(zeroedCount count: Int) {
    let n = Swift.max(count, 1)
    self.base = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 16)
    self.base.initializeMemory(as: UInt8.self, repeating: 0, count: n)
    self.count = count
  }

  @usableFromInline
  convenience init<C: Collection>(copying bytes: C) where C.Element == UInt8 {
    self.init(zeroedCount: bytes.count)
    let buffer = UnsafeMutableRawBufferPointer(start: base, count: count)
    let done: Void? = bytes.withContiguousStorageIfAvailable { src in
      buffer.copyMemory(from: UnsafeRawBufferPointer(src))
    }
    if done == nil { _ = buffer.initializeMemory(as: UInt8.self, from: bytes) }
  }

  deinit { base.deallocate() }
}

import KHOCore
import KHOFormats
import XArray

/// The zero-copy view against the in-memory store, differentially: the
/// input's first 64 bytes are eight query keys, the rest a page dump at
/// 0x100000 with a kho-xarray-v2 header (or, if that fails, a v1 root).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXArrayView(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 64 else { return 0 }
  let raw = UnsafeRawPointer(data)
  let keys = (0..<8).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
  let base = PhysAddr(0x10_0000)
  let image = InputMemory(Bytes(UnsafeBufferPointer(start: data + 64, count: size - 64)), base: base.rawValue)
  let view: any KHOXArrayReading
  if let v2 = try? KHOXArrayV2View(memory: image, at: base, verifyChecksums: false) {
    view = v2
  } else if let v1 = try? KHOXArrayV1View(memory: image, root: base) {
    view = v1
  } else {
    return 0
  }
  let x = view.makeXArray()
  for k in keys + keys.map({ $0 % 4096 }) {
    if view.load(k) != x[k] { fatalError("load \(k)") }
    if view.firstIndex(from: k, marked: nil) != x.firstIndex(from: k) { fatalError("first \(k)") }
    if view.lastIndex(through: k, marked: nil) != x.lastIndex(through: k) { fatalError("last \(k)") }
    for m in XArrayMark.all {
      if view.firstIndex(from: k, marked: m) != x.firstIndex(from: k, marked: m) {
        fatalError("first marked \(k)")
      }
    }
  }
  return 0
}

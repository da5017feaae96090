import KHOCore
import KHOFormats
import XArray

/// Arbitrary bytes as a page dump at 0x100000 holding a kho-xarray-v1 tree
/// rooted at its first page: the view must reject it with a DecodeError or
/// give an array that re-encodes and decodes to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXArrayV1(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let base = PhysAddr(0x10_0000)
  let image = InputMemory(Bytes(UnsafeBufferPointer(start: data, count: size)), base: base.rawValue)
  guard let view = try? KHOXArrayV1View(memory: image, root: base) else { return 0 }
  let x = view.makeXArray()
  if x.count != view.count { fatalError("count \(view.count) but \(x.count) entries") }
  for (k, v) in x.prefix(64) where view.load(k) != v { fatalError("load \(k)") }
  let out = PhysicalImage()
  var alloc = PageAllocator(start: PhysAddr(0x1000_0000), pages: 1 << 20)
  guard let root = try? KHOXArrayV1.encode(x, into: out, allocator: &alloc) else {
    fatalError("a decoded array does not re-encode")
  }
  guard let again = try? KHOXArrayV1.decode(from: out, root: root), again == x else {
    fatalError("kho-xarray-v1 round trip changed the array")
  }
  return 0
}

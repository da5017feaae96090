import KHOCore
import KHOFormats
import XArray

/// Arbitrary bytes as a page dump at 0x100000 with a kho-xarray-v2 header
/// on its first page. Checksums are not verified (so the fuzzer reaches the
/// structure checks); whatever opens must round-trip through the encoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXArrayV2(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let base = PhysAddr(0x10_0000)
  let image = InputMemory(Bytes(UnsafeBufferPointer(start: data, count: size)), base: base.rawValue)
  guard let view = try? KHOXArrayV2View(memory: image, at: base, verifyChecksums: false) else {
    _ = try? KHOXArrayV2View(memory: image, at: base, verifyChecksums: true)
    return 0
  }
  let x = view.makeXArray()
  if x.count != view.count { fatalError("count \(view.count) but \(x.count) entries") }
  let out = PhysicalImage()
  var alloc = PageAllocator(start: PhysAddr(0x1000_0000), pages: 1 << 20)
  guard let at = try? KHOXArrayV2.encode(x, into: out, allocator: &alloc),
    let again = try? KHOXArrayV2.decode(from: out, at: at)
  else { fatalError("a decoded array does not re-encode") }
  if again != x { fatalError("kho-xarray-v2 round trip changed the array") }
  return 0
}

// SPDX-License-Identifier: Apache-2.0
import KHOFuzzFormats

/// libFuzzer entry: see FuzzHarness.vmalloc.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVMalloc(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let failure = FuzzHarness.vmalloc(Array(UnsafeBufferPointer(start: data, count: size))) {
    fatalError(failure)
  }
  return 0
}

// SPDX-License-Identifier: Apache-2.0
import KHOFuzzFormats

/// libFuzzer entry: see FuzzHarness.xarrayView.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXArrayView(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let failure = FuzzHarness.xarrayView(Array(UnsafeBufferPointer(start: data, count: size))) {
    fatalError(failure)
  }
  return 0
}

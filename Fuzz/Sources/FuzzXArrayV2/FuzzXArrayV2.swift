// SPDX-License-Identifier: Apache-2.0
import KHOFuzzFormats

/// libFuzzer entry: see FuzzHarness.xarrayV2.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXArrayV2(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let failure = FuzzHarness.xarrayV2(Array(UnsafeBufferPointer(start: data, count: size))) {
    fatalError(failure)
  }
  return 0
}

// SPDX-License-Identifier: Apache-2.0
import KHOFuzzCompat
import KHOFuzzFormats

/// libFuzzer entry: see FuzzHarness.compatString.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCompatString(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let failure = FuzzHarness.compatString(Array(UnsafeBufferPointer(start: data, count: size))) {
    fatalError(failure)
  }
  return 0
}

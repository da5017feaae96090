// SPDX-License-Identifier: Apache-2.0
import KHOFuzzFormats
import KHOFuzzHarness

/// libFuzzer entry: see FuzzHarness.kdump.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKdump(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let failure = FuzzHarness.kdump(Array(UnsafeBufferPointer(start: data, count: size))) {
    fatalError(failure)
  }
  return 0
}

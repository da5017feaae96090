// SPDX-License-Identifier: Apache-2.0
import KHOFuzzFormats
import KHOFuzzImage

/// libFuzzer entry: see FuzzHarness.elfCore.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzELFCore(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let failure = FuzzHarness.elfCore(Array(UnsafeBufferPointer(start: data, count: size))) {
    fatalError(failure)
  }
  return 0
}

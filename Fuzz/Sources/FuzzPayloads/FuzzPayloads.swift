// SPDX-License-Identifier: Apache-2.0
import KHOFuzzFormats

/// libFuzzer entry: see FuzzHarness.payloads.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPayloads(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let failure = FuzzHarness.payloads(Array(UnsafeBufferPointer(start: data, count: size))) {
    fatalError(failure)
  }
  return 0
}

// SPDX-License-Identifier: Apache-2.0
import KHOFuzzFormats
import KHOFuzzHarness

/// libFuzzer entry: arbitrary bytes as a handover image, decoded, rebuilt and converted (see FuzzHarness.convert).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConvert(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let failure = FuzzHarness.convert(Array(UnsafeBufferPointer(start: data, count: size))) {
    fatalError(failure)
  }
  return 0
}

// SPDX-License-Identifier: Apache-2.0
import KHOFuzzFormats

/// libFuzzer entry: arbitrary bytes as a DTB (see FuzzHarness.fdt).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFDT(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let failure = FuzzHarness.fdt(Array(UnsafeBufferPointer(start: data, count: size))) {
    fatalError(failure)
  }
  return 0
}

// SPDX-License-Identifier: Apache-2.0
import KHOFuzzCompat
import KHOFuzzFormats

/// libFuzzer entry: see FuzzHarness.liveupdateVersions.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLiveupdateVersions(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let failure = FuzzHarness.liveupdateVersions(Array(UnsafeBufferPointer(start: data, count: size))) {
    fatalError(failure)
  }
  return 0
}

// SPDX-License-Identifier: Apache-2.0
import KHOFuzzCompat
import KHOFuzzFormats

/// libFuzzer entry: see FuzzHarness.manifest.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let failure = FuzzHarness.manifest(Array(UnsafeBufferPointer(start: data, count: size))) {
    fatalError(failure)
  }
  return 0
}

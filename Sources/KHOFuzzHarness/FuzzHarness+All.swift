// SPDX-License-Identifier: Apache-2.0
import KHOFuzzCompat
import KHOFuzzFormats
import KHOFuzzImage

extension FuzzHarness {
  /// Every harness by fuzz target name.
  public static let all: [String: @Sendable ([UInt8]) -> String?] = [
    "FuzzFDT": fdt,
    "FuzzBlocks": blocks,
    "FuzzLUO": luo,
    "FuzzMemfd": memfd,
    "FuzzVMalloc": vmalloc,
    "FuzzManifest": manifest,
    "FuzzLiveupdateVersions": liveupdateVersions,
    "FuzzCompatString": compatString,
    "FuzzELFCore": elfCore,
    "FuzzBundle": bundle,
    "FuzzDebugfs": debugfs,
    "FuzzXArrayV1": xarrayV1,
    "FuzzXArrayV2": xarrayV2,
    "FuzzXArrayView": xarrayView,
    "FuzzRadix": radix,
    "FuzzBitmapChunks": bitmapChunks,
    "FuzzKHORoot": khoRoot,
    "FuzzConvert": convert,
    "FuzzPayloads": payloads,
    "FuzzKdump": kdump,
    "FuzzPackDiff": packDiff,
  ]
}

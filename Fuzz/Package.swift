// swift-tools-version: 6.2
//
// libFuzzer targets, one per decoder and loader. Build and run one with
// `./run.sh FuzzFDT 60`; `make fuzz` runs them all. See README.md.

import PackageDescription

/// Every fuzz target; each lives in Sources/<name>/ and seeds from Corpus/<name>/.
let fuzzTargets = [
  "FuzzFDT",
  "FuzzBlocks",
  "FuzzLUO",
  "FuzzMemfd",
  "FuzzVMalloc",
  "FuzzManifest",
  "FuzzLiveupdateVersions",
  "FuzzCompatString",
  "FuzzELFCore",
  "FuzzBundle",
  "FuzzDebugfs",
  "FuzzRadix",
  "FuzzBitmapChunks",
  "FuzzKHORoot",
  "FuzzConvert",
  "FuzzXArrayV1",
  "FuzzXArrayV2",
  "FuzzXArrayView",
  "FuzzPayloads",
  "FuzzKdump",
  "FuzzPackDiff",
]

let package = Package(
  name: "kho-fuzz",
  dependencies: [.package(name: "kho-toolkit", path: "..")],
  targets: fuzzTargets.map { name in
    .executableTarget(
      name: name,
      dependencies: [
        .product(name: "KHOCore", package: "kho-toolkit"),
        .product(name: "XArray", package: "kho-toolkit"),
        .product(name: "KHOFormats", package: "kho-toolkit"),
        .product(name: "KHOCompat", package: "kho-toolkit"),
        .product(name: "KHOImage", package: "kho-toolkit"),
        .product(name: "KHOInspect", package: "kho-toolkit"),
        .product(name: "KHOFuzzHarness", package: "kho-toolkit"),
      ],
      path: "Sources/\(name)")
  }
)

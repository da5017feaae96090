// swift-tools-version: 6.2
//
// libFuzzer targets, one per decoder and loader. Build and run one with
// `./run.sh FuzzFDT 60`; `make fuzz` runs them all. See README.md.

import PackageDescription

/// Every fuzz target, by the harness module that holds its checks; each
/// lives in Sources/<name>/ and seeds from Corpus/<name>/. A target links
/// only its harness module's layers: libFuzzer scans every coverage
/// counter in the binary after each input, so fewer modules is more
/// executions per second.
let fuzzTargets: [(name: String, harness: String)] = [
  ("FuzzFDT", "KHOFuzzFormats"),
  ("FuzzBlocks", "KHOFuzzFormats"),
  ("FuzzLUO", "KHOFuzzFormats"),
  ("FuzzMemfd", "KHOFuzzFormats"),
  ("FuzzVMalloc", "KHOFuzzFormats"),
  ("FuzzManifest", "KHOFuzzCompat"),
  ("FuzzLiveupdateVersions", "KHOFuzzCompat"),
  ("FuzzCompatString", "KHOFuzzCompat"),
  ("FuzzELFCore", "KHOFuzzImage"),
  ("FuzzBundle", "KHOFuzzHarness"),
  ("FuzzDebugfs", "KHOFuzzHarness"),
  ("FuzzRadix", "KHOFuzzFormats"),
  ("FuzzBitmapChunks", "KHOFuzzFormats"),
  ("FuzzKHORoot", "KHOFuzzFormats"),
  ("FuzzConvert", "KHOFuzzHarness"),
  ("FuzzXArrayV1", "KHOFuzzFormats"),
  ("FuzzXArrayV2", "KHOFuzzFormats"),
  ("FuzzXArrayView", "KHOFuzzFormats"),
  ("FuzzPayloads", "KHOFuzzFormats"),
  ("FuzzKdump", "KHOFuzzHarness"),
  ("FuzzPackDiff", "KHOFuzzHarness"),
]

let package = Package(
  name: "kho-fuzz",
  dependencies: [.package(name: "kho-toolkit", path: "..")],
  targets: fuzzTargets.map { target in
    .executableTarget(
      name: target.name,
      dependencies: [
        .product(name: "KHOFuzzFormats", package: "kho-toolkit"),
        .product(name: target.harness, package: "kho-toolkit"),
      ],
      path: "Sources/\(target.name)")
  }
)

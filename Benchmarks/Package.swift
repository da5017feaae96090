// swift-tools-version: 6.2
//
// Benchmarks with their peers measured in the same run (ordo-one/benchmark).
//   cd Benchmarks && swift package benchmark            (all)
//   swift package benchmark --target FDTWalk            (one)
// `make bench` runs them all; the current ratio tables are in Benchmarks/README.md.

import PackageDescription

/// Every benchmark suite; each lives in Benchmarks/<name>/.
let suites = [
  "FDTWalk",
  "MemoryMapBench",
  "BlockChainBench",
  "ScaleValidate",
  "XArrayBench",
  "DumpScan",
]

let package = Package(
  name: "kho-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(name: "kho-toolkit", path: ".."),
    .package(
      url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1",
      traits: ["MallocInterposer"]),
  ],
  targets: [
    // Judy arrays (Debian libjudy-dev), the classic C sparse array, as a peer.
    .systemLibrary(name: "CJudy", providers: [.apt(["libjudy-dev"])]),
    // A C model of the kernel's one-folio-per-call radix preserve, as a peer.
    .target(name: "CRadixModel"),
  ]
    + suites.map { name in
      .executableTarget(
        name: name,
        dependencies: [
          .product(name: "Benchmark", package: "benchmark"),
          .product(name: "CFDT", package: "kho-toolkit"),
          .product(name: "KHOCore", package: "kho-toolkit"),
          .product(name: "KHOFormats", package: "kho-toolkit"),
          .product(name: "XArray", package: "kho-toolkit"),
          .product(name: "KHOImage", package: "kho-toolkit"),
          .product(name: "KHOInspect", package: "kho-toolkit"),
          "CJudy",
          "CRadixModel",
        ],
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")])
    }
)

// swift-tools-version: 6.2
//
// The KHO toolkit: codecs, an inspector and a compatibility checker for the
// data one Linux kernel leaves in RAM for the next across a kexec handover.

import PackageDescription

let strict: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny")
]

// Internal invariant checks (`_checkInvariants()` after every mutation of
// XArray's tree, the xarray views' shadow tree and PreservedSet), off by
// default. Turn them on with the variable set when SwiftPM reads this
// file, e.g. `XARRAY_INTERNAL_CHECKS=1 KHO_INTERNAL_CHECKS=1 swift test`
// (a fresh build: SwiftPM caches the manifest, so touch it or clean first
// when only the variable changed).
let xarrayChecks: [SwiftSetting] =
  Context.environment["XARRAY_INTERNAL_CHECKS"] != nil ? [.define("XARRAY_INTERNAL_CHECKS")] : []
let khoChecks: [SwiftSetting] =
  Context.environment["KHO_INTERNAL_CHECKS"] != nil ? [.define("KHO_INTERNAL_CHECKS")] : []

let package = Package(
  name: "kho-toolkit",
  products: [
    .library(name: "CFDT", targets: ["CFDT"]),
    .library(name: "KHOCore", targets: ["KHOCore"]),
    .library(name: "XArray", targets: ["XArray"]),
    .library(name: "KHOFormats", targets: ["KHOFormats"]),
    .library(name: "KHOCompat", targets: ["KHOCompat"]),
    .library(name: "KHOImage", targets: ["KHOImage"]),
    .library(name: "KHOInspect", targets: ["KHOInspect"]),
    .executable(name: "khodump", targets: ["khodump"]),
    .library(name: "KHOFuzzFormats", targets: ["KHOFuzzFormats"]),
    .library(name: "KHOFuzzCompat", targets: ["KHOFuzzCompat"]),
    .library(name: "KHOFuzzImage", targets: ["KHOFuzzImage"]),
    .library(name: "KHOFuzzHarness", targets: ["KHOFuzzHarness"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    // `make docs`: the DocC catalogs of the library modules.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    // C boundary: libfdt (Debian libfdt-dev ships no .pc file, so the shim
    // links it by name) and libzstd.
    .target(
      name: "CFDT",
      linkerSettings: [.linkedLibrary("fdt")]
    ),
    // libkdumpfile, for kdump-compressed vmcores (Debian libkdumpfile-dev).
    .target(
      name: "CKdumpfile",
      linkerSettings: [.linkedLibrary("kdumpfile")]
    ),
    // Cache hints (header-only `static inline` prefetch) for hot loops.
    .target(name: "CPrefetch"),
    .systemLibrary(
      name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

    // Layers, bottom up. Nothing imports upward.
    .target(name: "KHOCore", swiftSettings: strict),
    .target(name: "XArray", swiftSettings: strict + xarrayChecks),
    .target(
      name: "KHOFormats", dependencies: ["KHOCore", "XArray", "CFDT", "CPrefetch"],
      swiftSettings: strict + khoChecks),
    .target(
      name: "KHOCompat", dependencies: ["KHOCore", "XArray", "KHOFormats"],
      swiftSettings: strict),
    .target(
      name: "KHOImage", dependencies: ["KHOCore", "KHOFormats", "CZstd", "CKdumpfile"],
      swiftSettings: strict),
    .target(
      name: "KHOInspect",
      dependencies: ["KHOCore", "XArray", "KHOFormats", "KHOCompat", "KHOImage"],
      swiftSettings: strict),
    .executableTarget(
      name: "khodump",
      dependencies: [
        "KHOInspect", "KHOImage", "KHOFormats", "KHOCompat", "KHOCore",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strict),

    // What each fuzz target checks, shared by Fuzz/ and the regression
    // tests; split by the layers reached, so that a fuzz target links (and
    // libFuzzer scans the coverage counters of) only what it fuzzes.
    .target(name: "KHOFuzzFormats", dependencies: ["KHOCore", "XArray", "KHOFormats"], swiftSettings: strict),
    .target(
      name: "KHOFuzzCompat", dependencies: ["KHOFuzzFormats", "KHOCore", "KHOCompat"], swiftSettings: strict),
    .target(
      name: "KHOFuzzImage", dependencies: ["KHOFuzzFormats", "KHOCore", "KHOImage"], swiftSettings: strict),
    .target(
      name: "KHOFuzzHarness",
      dependencies: [
        "KHOFuzzFormats", "KHOFuzzCompat", "KHOFuzzImage", "KHOCore", "XArray", "KHOFormats", "KHOCompat", "KHOImage",
        "KHOInspect",
      ],
      swiftSettings: strict),

    // Tests, one target per module.
    .testTarget(
      name: "KHOCoreTests",
      dependencies: [
        "KHOCore", .product(name: "PropertyBased", package: "swift-property-based"),
      ]),
    .testTarget(
      name: "XArrayTests",
      dependencies: [
        "XArray", .product(name: "PropertyBased", package: "swift-property-based"),
      ]),
    .testTarget(
      name: "KHOFormatsTests",
      dependencies: [
        "KHOFormats", "KHOCore", "CFDT",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ],
      resources: [.copy("Fixtures")]),
    .testTarget(name: "KHOCompatTests", dependencies: ["KHOCompat", "KHOFormats", "KHOCore", "XArray"]),
    .testTarget(
      name: "KHOImageTests", dependencies: ["KHOImage", "KHOFormats", "KHOCore"], exclude: ["QEMU"]),
    .testTarget(
      name: "KHOInspectTests",
      dependencies: ["KHOInspect", "KHOImage", "KHOFormats", "KHOCompat", "KHOCore"]),
    .testTarget(name: "khodumpTests", dependencies: ["khodump"]),
    .testTarget(name: "FuzzRegressionTests", dependencies: ["KHOFuzzHarness", "KHOFuzzFormats"]),
  ]
)

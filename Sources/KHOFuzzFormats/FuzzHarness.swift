// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// The checks each libFuzzer target runs on one input.
///
/// The harnesses live in four modules so that a fuzz target links only
/// the layers it reaches (libFuzzer scans every coverage counter of the
/// binary after each input): this one for the formats, `KHOFuzzCompat` for
/// compatibility, `KHOFuzzImage` for ELF cores, `KHOFuzzHarness` for the
/// rest of the image loaders and the inspector, with `FuzzHarness.all`.
///
/// A harness returns `nil` when the input was handled correctly (decoded,
/// or refused with a `DecodeError`) and a description of the broken
/// property otherwise. The Fuzz/ targets trap on a non-nil result so that
/// libFuzzer records the input; `swift test` replays every saved input
/// (Fuzz/Corpus and Fuzz/Regressions) through the same function.
public enum FuzzHarness {
  /// The most a compressed fuzz input may expand to (64 MiB): far below the
  /// fuzzer's RSS limit, so that a zstd bomb is a typed refusal, not an
  /// out-of-memory report.
  public static let decompressionLimit = 1 << 26

  /// Arbitrary bytes as a DTB: refused, or a tree that rebuilds through
  /// libfdt into a blob that parses to the same tree.
  @Sendable public static func fdt(_ data: [UInt8]) -> String? {
    guard let fdt = try? FDT(parsing: Bytes(data), allowTrailingBytes: true) else { return nil }
    for node in fdt.nodes {
      _ = node.path
      for p in node.properties { _ = (p.name, p.string, p.cells, p.u64(.little)) }
    }
    let tree = fdt.tree()
    // libfdt refuses some names our reader accepts (a '/' inside a name).
    guard let rebuilt = try? FDTBuilder.build(tree, reservations: fdt.reservations) else { return nil }
    guard let again = try? FDT(parsing: rebuilt) else { return "FDTBuilder output does not parse" }
    return again.tree() == tree ? nil : "FDT round trip changed the tree"
  }
}

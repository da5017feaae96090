// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOFuzzFormats
import KHOFuzzHarness
import Testing

/// Replays every saved fuzz input (seed corpora and crash regressions)
/// through the same checks the fuzz targets run.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
  static let fuzzDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fuzz")

  static func inputs(_ target: String) -> [URL] {
    ["Corpus", "Regressions"].flatMap { kind -> [URL] in
      let dir = fuzzDirectory.appendingPathComponent(kind).appendingPathComponent(target)
      return (try? FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)) ?? []
    }.filter { !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.path < $1.path }
  }

  @Test("every fuzz target has a harness and seeds", arguments: FuzzHarness.all.keys.sorted())
  func seeded(target: String) {
    #expect(!Self.inputs(target).isEmpty, "no seeds for \(target)")
  }

  @Test("saved inputs pass their harness", arguments: FuzzHarness.all.keys.sorted())
  func replay(target: String) throws {
    let harness = try #require(FuzzHarness.all[target])
    for url in Self.inputs(target) {
      let data = Array(try Data(contentsOf: url))
      #expect(harness(data) == nil, "\(target) fails on \(url.lastPathComponent)")
    }
  }
}

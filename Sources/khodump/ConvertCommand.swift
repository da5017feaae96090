// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import KHOCompat
import KHOCore
import KHOInspect

/// `khodump convert IMAGE --to kho-v2,luo-v5,... --out FILE`.
struct ConvertCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Re-encode a handover in other component versions, where that is lossless, as a bundle.",
    discussion: """
      Components are named by their version strings (kho-v3, radix-v1, luo-v5;block-v1, memfd-v1, \
      kho-xarray-v2, …); components not named keep their version. The memory map follows the root \
      (kho-v1: bitmap chunks, kho-v2+: radix). Anything the target versions cannot say is refused \
      with every offending session, file and field. The bundle carries its root address, so every \
      verb reads it without --fdt-phys.

      Exit status: 0 converted, 1 refused (the reason is printed), 2 usage error or unreadable input.
      """)

  @OptionGroup var image: ImageOptions

  @Option(help: "Target versions, comma separated (kho-v2,luo-v5,memfd-v1).")
  var to: String

  @Option(help: "Where to write the converted bundle.")
  var out: String

  @Flag(help: "Write the ELF uncompressed (for readelf -l).")
  var noCompress = false

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  struct Refusal: Encodable {
    var status = "refused"
    var kind: String
    var component: String?
    var message: String
    var violations: [ConversionViolation]
  }

  struct Converted: Encodable {
    var status = "converted"
    var out: String
    var summary: ImageConversion.Summary
  }

  func targets() throws -> [ComponentID: String] {
    let t: [ComponentID: String]
    do { t = try ModelConverter.targets(to.split(separator: ",").map(String.init)) } catch {
      throw ValidationError("--to: \(error.message)")
    }
    guard !t.isEmpty else { throw ValidationError("--to names no version") }
    return t
  }

  func validate() throws { _ = try targets() }

  func run() throws {
    let targets = try targets()
    let source = try image.open()
    let result: ImageConversion.Result
    do {
      result = try ImageConversion.convert(source, targets: targets, compress: !noCompress)
    } catch {
      switch format {
      case .json:
        try printJSON(
          Refusal(
            kind: error.kind.rawValue, component: error.component?.rawValue, message: error.message,
            violations: error.violations))
      case .text:
        print(Terminal.paint("refused", .red) + ": \(error)")
      }
      throw ExitCode(1)
    }
    do { try Data(result.bundle).write(to: URL(fileURLWithPath: out)) } catch {
      Terminal.error("khodump: cannot write \(out): \(error.localizedDescription)")
      throw ExitCode(2)
    }
    let s = result.summary
    switch format {
    case .json:
      try printJSON(Converted(out: out, summary: s))
    case .text:
      print("converted \(image.image) → \(out)")
      if s.steps.isEmpty { print("  nothing to change: every component is already in the target version") }
      for step in s.steps { print("  \(step)") }
      print(
        "  root \(s.root); new metadata from \(s.metadataBase): \(s.metadataPages) pages (+ \(s.mapPages) map pages)")
      print(
        "  preserved: \(s.preservedEntries) entries, \(s.preservedPages) pages (\(s.droppedMetadataPages) old metadata pages dropped)"
      )
      print(
        "  copied \(s.copiedPages) captured data pages to their addresses; bundle \(formatBytes(UInt64(s.bundleBytes)))"
      )
    }
  }
}

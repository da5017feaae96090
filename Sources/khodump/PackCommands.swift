// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import KHOCore
import KHOImage
import KHOInspect

/// `khodump pack IMAGE --out FILE`: a compact bundle of the reachable pages.
struct PackCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pack",
    abstract: "Write a compact zstd-compressed ELF bundle of every page reachable from the KHO root.",
    discussion:
      "The bundle carries a KHO-TOOLKIT note (root address, page size, byte order), so every verb reads it without --fdt-phys. See Specs/bundle.md."
  )

  @OptionGroup var image: ImageOptions

  @Option(help: "Where to write the bundle.")
  var out: String

  @Flag(help: "Also include the preserved data pages the image captured.")
  var withData = false

  @Flag(help: "Write the ELF uncompressed (for readelf -l).")
  var noCompress = false

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func run() throws {
    let source = try image.open()
    let (result, report) = try Packer.pack(source, withData: withData, compress: !noCompress, to: out)
    switch format {
    case .json: try printJSON(result)
    case .text:
      print(
        "wrote \(out): root \(result.root), \(result.pages) pages in \(result.ranges) ranges, \(formatBytes(UInt64(result.bytes)))"
      )
    }
    printProblems(report.problems, toStdout: false)
    if report.hasProblems { throw ExitCode(1) }
  }
}

/// `khodump capture --out FILE`: the same, from a live host.
struct CaptureCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "capture",
    abstract: "Capture this host's handover (debugfs + /proc/kcore or /dev/mem) into a bundle.")

  @Option(help: "Where to write the bundle.")
  var out: String

  @Option(help: "The kho debugfs directory (its in/ or out/ half is chosen with --side).")
  var debugfs = "/sys/kernel/debug/kho"

  @Option(help: "in or out (default: in if present, else out).")
  var side: String?

  @Option(help: "Physical memory: /proc/kcore (ELF) or /dev/mem (raw, RAM ranges from /proc/iomem).")
  var mem: String?

  @Option(name: .customLong("fdt-phys"), help: "Physical address of the root FDT, if known.")
  var fdtPhys: String?

  @Flag(help: "Also include preserved data pages.")
  var withData = false

  func run() throws {
    let root = try fdtPhys.map(ImageOptions.parseAddress)
    let source = try Capture.source(.init(debugfs: debugfs, side: side, mem: mem, rootAddress: root))
    let (result, report) = try Packer.pack(source, withData: withData, sourceName: "capture", to: out)
    print("wrote \(out): root \(result.root), \(result.pages) pages, \(formatBytes(UInt64(result.bytes)))")
    printProblems(report.problems, toStdout: false)
    if report.hasProblems { throw ExitCode(1) }
  }
}

/// `khodump diff A B`: what changed between two handovers.
struct DiffCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Compare two handovers: versions, components, sessions, files, preserved ranges.",
    discussion: """
      Exit status 0 when they are the same, 1 when they differ or when either
      does not decode cleanly (its errors are listed, marked with the side).
      """)

  @Argument(help: "The first image.") var a: String
  @Argument(help: "The second image.") var b: String

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func run() throws {
    let wa = HandoverWalker(source: try HandoverSource.open(a))
    let wb = HandoverWalker(source: try HandoverSource.open(b))
    let d = HandoverDiff(wa, wb)
    switch format {
    case .json: try printJSON(d)
    case .text: print(d.text, terminator: "")
    }
    if !d.isEmpty { throw ExitCode(1) }
  }
}

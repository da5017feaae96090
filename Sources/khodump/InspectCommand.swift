// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import KHOCore
import KHOInspect

/// `khodump inspect IMAGE`: the whole handover as a tree.
struct InspectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect",
    abstract: "Decode everything reachable from the KHO root and print it as a tree.",
    discussion: """
      Walks the root FDT, the preserved-memory map, LUO sessions/files/FLBs,
      memfd state, kexec metadata and memblock; other sub-blobs are listed
      as opaque with their address and size. Problems are listed at the end
      (and on stderr); exit status 1 when there are any.
      """)

  @OptionGroup var image: ImageOptions

  @Option(help: "Output format: text, json, or dot (Graphviz object graph).")
  var format: InspectFormat = .text

  @Option(help: "How deep to print: 1 components, 2 sessions and orders, 3 files.")
  var depth: Int = 3

  @Option(help: "Only this component (e.g. LUO, memblock, preserved-memory-map).")
  var only: String?

  enum InspectFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, dot
  }

  func run() throws {
    let source = try image.open()
    let walker = HandoverWalker(source: source)
    let report = walker.walk()
    switch format {
    case .text:
      print(ReportText(depth: depth, only: only).render(report), terminator: "")
      printProblems(report.problems, toStdout: true)
    case .json:
      try printJSON(report)
    case .dot:
      print(ReportDot().render(report), terminator: "")
    }
    if report.hasProblems { throw ExitCode(1) }
  }
}

/// `khodump validate IMAGE`: problems only.
struct ValidateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate",
    abstract: "Check a handover and list only its problems (exit 1 when there are any).")

  @OptionGroup var image: ImageOptions

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  struct Output: Encodable {
    var image: String
    var clean: Bool
    var problems: [Problem]
  }

  func run() throws {
    let source = try image.open()
    let report = HandoverWalker(source: source).walk()
    switch format {
    case .json:
      try printJSON(Output(image: image.image, clean: !report.hasProblems, problems: report.problems))
    case .text:
      if report.problems.isEmpty { print("\(image.image): clean") }
      printProblems(report.problems, toStdout: true)
    }
    if report.hasProblems { throw ExitCode(1) }
  }
}

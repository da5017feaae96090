// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import KHOCore
import KHOFormats
import KHOImage
import KHOInspect

/// `khodump demo`: build a representative handover, pack it, re-open the
/// bundle and inspect it — the whole toolkit in one command.
struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Build a representative handover in memory, pack it, re-open the bundle and inspect it.",
    discussion: "With --out FILE the bundle stays at FILE so that every other verb can be tried on it.")

  @Option(help: "Leave the bundle at this path.")
  var out: String?

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func run() throws {
    let demo = try DemoHandover.build()
    let path = out ?? (NSTemporaryDirectory() + "khodump-demo-\(getpid()).kho")
    defer { if out == nil { try? FileManager.default.removeItem(atPath: path) } }
    // Pack from the in-memory image, exactly as from a dump.
    let live = HandoverSource(
      capturing: demo.image, root: demo.rootAddress, rootBytes: nil, scratch: nil, path: "demo")
    let (bundle, result, _) = try Packer.pack(live, sourceName: "khodump demo")
    try Data(bundle).write(to: URL(fileURLWithPath: path))
    let reopened = try HandoverSource.open(path)
    let report = HandoverWalker(source: reopened).walk()
    switch format {
    case .json:
      try printJSON(report)
    case .text:
      print("Built a handover in memory: \(demo.image.pageCount) pages; packed \(result.pages) reachable pages")
      print("into a \(formatBytes(UInt64(result.bytes))) bundle\(out.map { " at \($0)" } ?? ""), re-opened it:\n")
      print(ReportText(depth: 3).render(report), terminator: "")
      printProblems(report.problems, toStdout: true)
      if out != nil {
        print(
          "\nTry: khodump sessions \(path) · khodump pages \(path) --summary · khodump inspect \(path) --format dot")
      }
    }
    if report.hasProblems { throw ExitCode(1) }
  }
}

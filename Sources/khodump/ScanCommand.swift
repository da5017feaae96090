import ArgumentParser
import KHOCore
import KHOImage

/// `khodump scan IMAGE`: list pages that hold a KHO root FDT.
struct ScanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "scan",
    abstract: "Find KHO root FDTs in a memory image (like fdtdump -s, for KHO).",
    discussion: "Lists every page that begins with a valid FDT whose root compatible starts with kho-.")

  @Argument(help: "An ELF core (raw or zstd) or a toolkit bundle.")
  var image: String

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  struct Output: Encodable {
    var image: String
    var candidates: [RootScanner.Candidate]
  }

  func run() throws {
    let source = try HandoverSource.open(image, locateRoot: false)
    let bar = ProgressBar("scanning")
    let found = RootScanner.scan(source.memory) { bar.update($0) }
    bar.finish()
    switch format {
    case .json:
      try printJSON(Output(image: image, candidates: found))
    case .text:
      if found.isEmpty { print("no KHO root FDT found in \(image)") }
      for c in found { print("\(c.address)\t\(c.compatible)\t\(c.totalSize) bytes") }
    }
    if found.isEmpty { throw ExitCode(1) }
  }
}

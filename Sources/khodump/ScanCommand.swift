// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import KHOCore
import KHOImage
import KHOInspect

/// `khodump scan IMAGE`: list pages that hold a KHO root FDT.
struct ScanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "scan",
    abstract: "Find KHO root FDTs in a memory image (like fdtdump -s, for KHO).",
    discussion: """
      Lists every page that begins with a valid FDT whose root compatible starts \
      with kho-, and how each was found: the scan itself, or a boot locator \
      of a kernel booted by a handover (an x86 setup_data entry of type 10, \
      /chosen/linux,kho-fdt in a boot DT). Holes of a sparse core are skipped.
      """)

  @Argument(help: "An ELF core or kdump-compressed vmcore (raw, flattened or zstd) or a toolkit bundle.")
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
      for c in found {
        let how = c.foundBy.map(\.description).joined(separator: ", ")
        print("\(c.address)\t\(escapeText(c.compatible))\t\(c.totalSize) bytes\tfound by \(how)")
      }
    }
    if found.isEmpty { throw ExitCode(1) }
  }
}

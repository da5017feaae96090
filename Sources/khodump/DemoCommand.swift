import ArgumentParser
import KHOCore
import KHOFormats
import KHOInspect

/// `khodump demo`: build a representative handover in memory and show it.
struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Build a small KHO handover in memory and print it.")

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func run() throws {
    let demo = try DemoHandover.build()
    let fdt = try demo.readRoot()
    switch format {
    case .text:
      print("KHO root FDT at \(demo.rootAddress) (\(fdt.header.totalSize) bytes):\n")
      print(DTSRenderer().render(fdt), terminator: "")
    case .json:
      try printJSON(FDTJSONNode(fdt.root, order: demo.image.geometry.byteOrder))
    }
  }
}

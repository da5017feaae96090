// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import KHOCore
import KHOFormats
import KHOImage
import KHOInspect

/// `khodump fdt FILE`: print a DTB like `dtc -O dts`, KHO-aware.
struct FDTCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fdt",
    abstract: "Print a flattened device tree (raw or zstd-compressed) as DTS or JSON.",
    discussion: """
      KHO stores u64 properties as raw native-endian copies, not big-endian
      cells; text output shows their value in a trailing comment. Use --raw
      for output identical to `dtc -I dtb -O dts`.
      """)

  @Argument(help: "A DTB file, optionally zstd-compressed.")
  var file: String

  @Option(help: "Output format: text (DTS) or json.")
  var format: OutputFormat = .text

  @Flag(help: "Print exactly what dtc prints, without KHO annotations.")
  var raw = false

  @Option(help: "Byte order of KHO u64 properties: little or big.")
  var byteOrder: String = "little"

  @Flag(help: "Accept a file longer than the FDT's totalsize (a whole page).")
  var allowTrailing = false

  func run() throws {
    guard let order = ByteOrder(rawValue: byteOrder) else {
      throw ValidationError("--byte-order must be little or big")
    }
    let bytes = try InputFile.load(file, limit: 1 << 30)
    let fdt = try FDT(parsing: bytes, allowTrailingBytes: allowTrailing)
    switch format {
    case .text:
      let r = DTSRenderer(options: .init(annotateKHO: raw ? nil : order))
      print(r.render(fdt), terminator: "")
    case .json:
      try printJSON(FDTJSONNode(fdt.root, order: order))
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import KHOCore
import KHOFormats
import KHOInspect
import KHOImage

/// `khodump pages IMAGE`: the preserved-memory map, one line per entry.
struct PagesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pages",
    abstract: "List the preserved pages: one line per (physical address, order) entry.",
    discussion: """
      Follows preserved-memory-map from the KHO root FDT and decodes it as
      the root's version says: the kho-v1 bitmap chunk list or the kho-v2+
      radix tree. Lines are `0x<phys> <order>`, sorted by address then
      order, so `khodump pages IMAGE | sha256sum` compares with the sha256
      of a kernel image's expected.json. --summary prints counts per order
      and the total bytes instead.

      Everything reachable is listed even when part of the map is broken;
      each problem (an uncaptured or misaligned node, a node reached twice,
      bits that decode to no entry) goes to stderr with its path and
      physical address, and the exit status is 1. A lone DTB holds only the
      root: the map's address is printed and the status is 1.

      JSON: {"format", "map", "entries": [{"phys", "order"}]} or, with
      --summary, {"format", "map", "orders": [{"order", "entries", "pages",
      "bytes"}], "total_entries", "total_pages", "total_bytes"}.
      """)

  @OptionGroup var image: ImageOptions

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  @Flag(help: "Print counts per order and the total bytes instead of the entries.")
  var summary = false

  @Flag(help: "Draw the physical address space as a density strip instead of listing entries.")
  var map = false

  @Option(help: "Rows of the --map strip.")
  var mapRows = 32

  @Option(help: "Cells per row of the --map strip.")
  var mapColumns = 64

  @Option(help: "Radix depth formula: plus-one (default) or original (16 KiB-page kernels before the fix).")
  var radixDepth: RadixDepthOption = .plusOne

  func run() throws {
    let rule = radixDepth.rule
    let source = try image.open()
    let fdt = try source.rootFDT()
    let decodedRoot = KHORoot.decodeReporting(fdt, byteOrder: source.memory.geometry.byteOrder)
    let rootProblems = decodedRoot.allProblems
    guard let root = decodedRoot.value else {
      reportProblems(rootProblems)
      throw ExitCode(1)
    }
    let result = Self.decode(root, memory: source.memory, depth: rule)
    // The map it prints must be one the next kernel can use: overlapping entries are problems too.
    let overlaps = result.set.overlappingEntries(limit: 100).map { e, other in
      DecodeError(
        .inconsistent, "entry \(e) overlaps entry \(other)", path: DecodePath.root.appending("preserved-memory-map"),
        address: e.phys)
    }
    let problems = rootProblems + result.problems + overlaps
    if result.captured {
      try emit(result.set, format: root.version.memoryMapFormat, map: root.memoryMap)
    } else {
      try emitUncaptured(root)
    }
    reportProblems(problems)
    if !problems.isEmpty || !result.captured { throw ExitCode(1) }
  }

  /// What `pages` found: the set, whether the map was in the input at all,
  /// and every problem.
  struct Result {
    var set: PreservedSet
    var captured: Bool
    var problems: [DecodeError]
  }

  /// Decodes the map `root` points to, keeping going past problems.
  static func decode(_ root: KHORoot, memory: any PhysicalMemory, depth: RadixTree.DepthRule) -> Result {
    let empty = PreservedSet(geometry: memory.geometry)
    if root.memoryMap.isZero {  // kho-v1 before serialization: nothing preserved yet
      return Result(set: empty, captured: true, problems: [])
    }
    guard memory.isCaptured(PhysRange(start: root.memoryMap, size: 8)) else {
      return Result(set: empty, captured: false, problems: [])
    }
    let r = PreservedMemoryMap.decodeReporting(
      root.version.memoryMapFormat, from: memory, at: root.memoryMap, depth: depth)
    return Result(set: r.value?.set ?? empty, captured: true, problems: r.allProblems)
  }

  struct EntryJSON: Encodable {
    var phys: String
    var order: Int
  }

  struct ListJSON: Encodable {
    var format: String
    var map: String
    var entries: [EntryJSON]
  }

  struct SummaryJSON: Encodable {
    var format: String
    var map: String
    var orders: [PreservedSetSummary.Order]
    var totalEntries: Int
    var totalPages: UInt64
    var totalBytes: UInt64
  }

  func emit(_ set: PreservedSet, format mapFormat: MemoryMapFormat, map: PhysAddr) throws {
    if self.map {
      print(DensityMap(rows: mapRows, columns: mapColumns).render(set), terminator: "")
      return
    }
    switch (format, summary) {
    case (.text, false):
      set.writeListing { FileHandle.standardOutput.write(Data($0)) }
    case (.text, true):
      print(Self.summaryText(set.summary), terminator: "")
    case (.json, false):
      try printJSON(
        ListJSON(
          format: mapFormat.rawValue, map: map.description,
          entries: set.map { EntryJSON(phys: $0.phys.description, order: $0.order) }))
    case (.json, true):
      let s = set.summary
      try printJSON(
        SummaryJSON(
          format: mapFormat.rawValue, map: map.description, orders: s.orders,
          totalEntries: s.totalEntries, totalPages: s.totalPages, totalBytes: s.totalBytes))
    }
  }

  func emitUncaptured(_ root: KHORoot) throws {
    let note =
      "preserved-memory-map \(root.memoryMap) (\(root.version.memoryMapFormat.rawValue), \(root.version)) is not captured in this input; a DTB holds only the root FDT, give a memory image"
    switch format {
    case .text:
      print(note)
    case .json:
      struct Uncaptured: Encodable {
        var format: String
        var map: String
        var captured = false
      }
      try printJSON(Uncaptured(format: root.version.memoryMapFormat.rawValue, map: root.memoryMap.description))
      Terminal.error("khodump: \(note)")
    }
  }

  /// The `--summary` table.
  static func summaryText(_ s: PreservedSetSummary) -> String {
    func row(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
      func pad(_ x: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - x.count)) + x }
      return pad(a, 5) + pad(b, 12) + pad(c, 16) + pad(d, 22) + "\n"
    }
    var out = row("order", "entries", "pages", "bytes")
    for o in s.orders { out += row("\(o.order)", "\(o.entries)", "\(o.pages)", "\(o.bytes)") }
    out += row("total", "\(s.totalEntries)", "\(s.totalPages)", "\(s.totalBytes)")
    out += "total \(formatBytes(s.totalBytes))\n"
    return out
  }
}

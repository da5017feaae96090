// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import KHOCore
import KHOFormats
import KHOImage
import XArray

/// `khodump xarray FILE --at PHYS`: print a preserved KHO xarray.
struct XArrayCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "xarray",
    abstract: "Print a preserved KHO xarray (kho-xarray-v1 or -v2) read in place.",
    discussion: """
      --at is the address of a kho-xarray-v2 header, or of a kho-xarray-v1
      root table (the value of its `struct kho_xarray`). With --format auto
      a v2 magic at --at selects v2, anything else is read as v1. FILE is
      any image (ELF core, bundle, debugfs copy); a file of no known kind
      is read as a raw page dump loaded at --base.
      """)

  @Argument(help: "An image (ELF core, bundle, debugfs copy) or a raw page dump (optionally zstd).")
  var file: String

  @Option(help: "Physical address of the header (v2) or root table (v1).")
  var at: String

  @Option(help: "Physical address of the first byte of FILE.")
  var base: String = "0x100000"

  @Option(help: "Which layout: auto, v1 or v2.")
  var layout: String = "auto"

  @Option(help: "Print only the entry covering this index.")
  var key: String?

  @Option(help: "Print only entries in A..B (inclusive).")
  var range: String?

  @Option(help: "Print only entries carrying this mark (0, 1 or 2).")
  var mark: Int?

  @Flag(help: "Skip checksum verification (v2).")
  var noVerify = false

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func run() throws {
    guard let at = parseU64(at), let base = parseU64(base) else {
      throw ValidationError("--at and --base take a number (0x… or decimal)")
    }
    var query = XArrayQuery.all
    if let key {
      guard let k = parseU64(key) else { throw ValidationError("--key takes a number") }
      query = .key(k)
    } else if let range {
      let parts = range.components(separatedBy: "..")
      guard parts.count == 2, let a = parseU64(parts[0]), let b = parseU64(parts[1]), a <= b else {
        throw ValidationError("--range takes A..B with A <= B")
      }
      query = .range(a...b)
    }
    let m = try mark.map { v throws -> XArrayMark in
      guard let m = XArrayMark(rawValue: v) else { throw ValidationError("--mark takes 0, 1 or 2") }
      return m
    }
    guard let which = XArrayLayout(rawValue: layout) else {
      throw ValidationError("--layout takes auto, v1 or v2")
    }
    let memory: any PhysicalMemory
    if let source = try? HandoverSource.open(file, locateRoot: false), source.kind != .dtb {
      memory = source.memory
    } else {
      let bytes = try InputFile.load(file, limit: 1 << 34)
      let image = PhysicalImage()
      bytes.withUnsafeBytes { image.write($0, at: PhysAddr(base)) }
      memory = image
    }
    let report = try xarrayReport(
      memory: memory, at: PhysAddr(at), layout: which, query: query, mark: m, verify: !noVerify)
    switch format {
    case .text: print(report.text, terminator: "")
    case .json: try printJSON(report)
    }
  }
}

/// Which preserved layout to read.
enum XArrayLayout: String {
  case auto, v1, v2
}

/// Which entries to print.
enum XArrayQuery {
  case all
  case key(UInt64)
  case range(ClosedRange<UInt64>)
}

/// What `khodump xarray` prints, as text or JSON.
struct XArrayReport: Encodable {
  struct Entry: Encodable {
    var index: String
    var last: String
    var value: String
    var marks: [Int]
  }
  var format: String
  var address: String
  var count: Int
  var keyBits: Int?
  var depth: Int?
  var entries: [Entry]

  var text: String {
    var s = "\(format) at \(address): \(count) entries"
    if let keyBits, let depth { s += ", \(keyBits)-bit keys, depth \(depth)" }
    s += "\n"
    for e in entries {
      let idx = e.index == e.last ? e.index : "\(e.index)...\(e.last)"
      s += "  \(idx): \(e.value)"
      if !e.marks.isEmpty { s += "  [" + e.marks.map { "mark\($0)" }.joined(separator: ", ") + "]" }
      s += "\n"
    }
    return s
  }
}

/// Reads the xarray at `at` in `memory` and selects the entries to show.
/// The core of `khodump xarray`, usable with any `PhysicalMemory`.
func xarrayReport(
  memory: any PhysicalMemory, at: PhysAddr, layout: XArrayLayout, query: XArrayQuery,
  mark: XArrayMark?, verify: Bool
) throws(DecodeError) -> XArrayReport {
  var which = layout
  if which == .auto {
    let magic = try? memory.reader(at: at, count: 4, path: "/xarray").integer(at: 0, as: UInt32.self)
    which = magic == KHOXArrayV2.magic ? .v2 : .v1
  }
  let view: any KHOXArrayReading
  var report: XArrayReport
  if which == .v2 {
    let v = try KHOXArrayV2View(memory: memory, at: at, verifyChecksums: verify)
    view = v
    report = XArrayReport(
      format: "kho-xarray-v2", address: "\(at)", count: v.count, keyBits: v.header.keyBits,
      depth: v.header.depth, entries: [])
  } else {
    let v = try KHOXArrayV1View(memory: memory, root: at)
    view = v
    report = XArrayReport(
      format: "kho-xarray-v1", address: "\(at)", count: v.count, keyBits: KHOXArrayV1.keyWidth,
      depth: KHOXArrayV1.depth(memory.geometry), entries: [])
  }
  let bounds: ClosedRange<UInt64>
  switch query {
  case .all: bounds = 0...UInt64.max
  case .key(let k): bounds = k...k
  case .range(let r): bounds = r
  }
  for e in view.entries(from: bounds.lowerBound, marked: mark) {
    if e.index > bounds.upperBound { break }
    report.entries.append(
      XArrayReport.Entry(
        index: hex(e.index), last: hex(e.lastIndex), value: hex(e.element),
        marks: XArrayMark.all.filter { e.marks.contains($0) }.map(\.rawValue)))
  }
  return report
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

/// Parses `0x…` hex or decimal.
func parseU64(_ s: String) -> UInt64? {
  let t = s.lowercased()
  return t.hasPrefix("0x") ? UInt64(t.dropFirst(2), radix: 16) : UInt64(t)
}

// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import KHOCore
import KHOImage
import KHOInspect

/// `khodump info IMAGE`: what a dump is, before asking what it holds.
struct InfoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Describe an image: container, page size, byte order, ranges, and where the KHO root is.",
    discussion: """
      The container (ELF core, kdump-compressed with its compression, bundle, \\
      DTB, debugfs copy) and what wraps it (zstd, makedumpfile's flattened \\
      format); the page size and byte order and where they came from; the \\
      captured ranges, the bytes that hold data and the holes; the KHO root \\
      and how it was found.
      """)

  @OptionGroup var options: ImageOptions

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  @Option(help: "The most captured ranges listed (the totals count them all).")
  var ranges = 16

  struct Root: Encodable {
    var address: PhysAddr
    var compatible: String
    var foundBy: [RootScanner.Locator]
  }

  struct Output: Encodable {
    var image: String
    var container: String
    var wrappers: [String]
    var pageSize: Int
    var pageSizeFrom: String
    var byteOrder: String
    var machine: String?
    var release: String?
    var compression: [String]?
    var rangeCount: Int
    var capturedBytes: UInt64
    var dataBytes: UInt64
    var holeBytes: UInt64
    var lowest: PhysAddr?
    var highest: PhysAddr?
    var ranges: [PhysRange]
    var root: Root?
    var candidates: [RootScanner.Candidate]
  }

  func run() throws {
    let source = try options.open()
    let memory = source.memory
    let g = memory.geometry
    var out = Output(
      image: source.path, container: source.kind.rawValue, wrappers: source.wrappers, pageSize: g.pageSize,
      pageSizeFrom: options.pageSize != nil ? "--page-size" : "default",
      byteOrder: g.byteOrder == .little ? "little" : "big",
      rangeCount: memory.segments.count, capturedBytes: memory.capturedBytes, dataBytes: 0, holeBytes: 0,
      ranges: Array(memory.segments.prefix(Swift.max(ranges, 0))),
      candidates: source.candidates)
    if let core = memory as? ELFCore {
      let names: [UInt16: String] = [3: "i386", 62: "x86_64", 183: "aarch64", 243: "riscv", 21: "ppc64", 22: "s390"]
      out.machine = names[core.machine].map { "\($0) (e_machine \(core.machine))" } ?? "e_machine \(core.machine)"
      out.release = core.vmcoreinfo["OSRELEASE"]
      if options.pageSize == nil, core.vmcoreinfo["PAGESIZE"] != nil || source.bundle != nil {
        out.pageSizeFrom = source.bundle != nil ? "bundle note" : "VMCOREINFO"
      }
    } else if let core = memory as? KdumpCore {
      out.machine = core.header.machine
      out.release = core.header.release.isEmpty ? core.vmcoreinfo["OSRELEASE"] : core.header.release
      out.compression = core.header.compression
      if options.pageSize == nil { out.pageSizeFrom = "kdump header" }
    }
    out.dataBytes = memory.dataSegments.reduce(0) { $0 &+ $1.size }
    out.holeBytes = out.capturedBytes &- out.dataBytes
    out.lowest = memory.segments.first?.start
    out.highest = memory.segments.last.map { PhysAddr($0.end &- 1) }
    if let a = source.rootAddress {
      let c = source.candidates.first { $0.address == a }
      out.root = Root(address: a, compatible: c?.compatible ?? "", foundBy: c?.foundBy ?? [])
    }
    switch format {
    case .json:
      try printJSON(out)
    case .text:
      print(text(out))
    }
    if source.rootAddress == nil || out.root?.compatible.isEmpty == true { throw ExitCode(1) }
  }

  func text(_ o: Output) -> String {
    var lines: [String] = []
    let wrapped = o.wrappers.isEmpty ? "" : " (in \(o.wrappers.joined(separator: ", ")))"
    lines.append("image       \(escapeText(o.image))")
    lines.append("container   \(o.container)\(wrapped)")
    if let c = o.compression { lines.append("compression \(c.isEmpty ? "unknown" : c.joined(separator: ", "))") }
    if let m = o.machine { lines.append("machine     \(escapeText(m))") }
    if let r = o.release, !r.isEmpty { lines.append("release     \(escapeText(r))") }
    lines.append("page size   \(o.pageSize) (\(o.pageSizeFrom)), \(o.byteOrder)-endian")
    let span = o.lowest.flatMap { lo in o.highest.map { "\(lo)…\($0)" } } ?? "none"
    lines.append(
      "captured    \(formatBytes(o.capturedBytes)) in \(o.rangeCount) range\(o.rangeCount == 1 ? "" : "s"), \(span)")
    lines.append("data        \(formatBytes(o.dataBytes)) (holes of the file: \(formatBytes(o.holeBytes)))")
    for r in o.ranges { lines.append("  \(r.start) +\(formatBytes(r.size))") }
    if o.rangeCount > o.ranges.count { lines.append("  … \(o.rangeCount - o.ranges.count) more") }
    if let r = o.root, r.compatible.isEmpty {
      lines.append("root        \(r.address) was given, but no KHO root FDT is there")
    } else if let r = o.root {
      let how = r.foundBy.map(\.description).joined(separator: ", ")
      lines.append("root        \(r.address) \(escapeText(r.compatible))\(how.isEmpty ? "" : ", found by \(how)")")
    } else if o.candidates.isEmpty {
      lines.append("root        not found; give --fdt-phys")
    } else {
      lines.append("root        not chosen: \(o.candidates.count) candidates (see khodump scan); give --fdt-phys")
    }
    return lines.joined(separator: "\n")
  }
}

// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import KHOCore
import KHOFormats
import KHOImage
import KHOInspect

/// `khodump sessions IMAGE`: the LUO sessions, files and FLBs a handover
/// hands to the next kernel, and everything wrong with them.
struct SessionsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sessions",
    abstract: "List the Live Update sessions, their files and the FLBs in a handover.",
    discussion: """
      Finds the LUO sub-blob through the KHO root FDT, tells its version
      (luo-v1 … luo-v5) by content, and prints sessions and files as a tree.
      When the preserved-memory map can be read in full, every LUO page, file
      data address and memfd page must be in it.
      Problems (bad counts, broken chains, duplicate names or tokens) are
      listed on stderr with their path and physical address; the exit status
      is then 1. Files and FLBs whose compatible has a registered decoder
      (guest_memfd, KVM VM and vCPU, huge-memfd, hugetlb, tmpfs, ...) show
      their decoded payload, and its cross-checks run (tokens, preserved
      pages, hstates). JSON output: {"liveupdate_number", "sessions":
      [{"name", "files": [{"compatible", "token", "data", "payload"}]}],
      "flbs": [{"name", "data", "count", "payload"}]}; a payload holds
      "format" and the upstream struct's field names (Specs/payloads.md).
      """)

  @OptionGroup var image: ImageOptions

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func run() throws {
    let source = try image.open()
    let root = try source.rootFDT()
    let lookup = preservedLookup(source)
    let report = Self.report(memory: source.memory, rootFDT: root, preserved: lookup?.set)
    switch format {
    case .json:
      try printJSON(report.json)
    case .text:
      print(report.text, terminator: "")
    }
    reportProblems(report.problems)
    printProblems(report.payloadProblems, toStdout: false)
    if !report.problems.isEmpty || report.payloadProblems.contains(where: { $0.severity != .note }) {
      throw ExitCode(1)
    }
  }

  /// Everything `sessions` shows about one handover.
  struct Report {
    var version: LUOVersion?
    var blob: PhysAddr?
    var blobSize: UInt64?
    var state: LUOState?
    var problems: [DecodeError]
    /// The decoded payloads of files and FLBs.
    var payloads = PayloadInventory()
    /// Payload decode problems and cross-checks.
    var payloadProblems: [Problem] = []
    var geometry: PageGeometry = .x86_64

    /// The JSON document (keys become snake_case).
    var json: SessionsJSON {
      SessionsJSON(
        liveupdateNumber: state?.liveUpdateNumber ?? 0,
        sessions: (state?.sessions ?? []).enumerated().map { i, s in
          SessionsJSON.Session(
            name: s.name,
            files: s.files.enumerated().map { j, f in
              .init(
                compatible: f.compatible, token: f.token, data: f.data.description,
                payload: payload(session: i, file: j)?.fields)
            })
        },
        flbs: (state?.flbs ?? []).enumerated().map { k, f in
          .init(
            name: f.name, data: "0x" + String(f.data, radix: 16), count: f.count,
            payload: k < payloads.flbs.count ? payloads.flbs[k].payload?.fields : nil)
        })
    }

    func payload(session i: Int, file j: Int) -> DecodedPayload? {
      payloads.files.first { $0.session == i && $0.file == j }?.payload
    }

    /// The tree printed for `--format text`.
    var text: String {
      guard let state, let version, let blob else {
        return "no LUO state could be read\n"
      }
      var out = "LUO \(version) at \(blob) (\(blobSize ?? 0) bytes), live update number \(state.liveUpdateNumber)\n"
      out += "sessions: \(state.sessions.count), files: \(state.fileCount)\n"
      for (i, s) in state.sessions.enumerated() {
        let lastSession = i == state.sessions.count - 1
        out +=
          (lastSession ? "└─ " : "├─ ")
          + "\(escapeText(s.name))  (\(s.files.count) file\(s.files.count == 1 ? "" : "s"))\n"
        let indent = lastSession ? "   " : "│  "
        for (j, f) in s.files.enumerated() {
          let branch = j == s.files.count - 1 ? "└─ " : "├─ "
          out +=
            indent + branch
            + "token \(f.token) (0x\(String(f.token, radix: 16)))  \(escapeText(f.compatible))  data \(f.data)\n"
          if let p = payload(session: i, file: j) {
            out +=
              indent + (j == s.files.count - 1 ? "   " : "│  ")
              + "   \(escapeText(p.format)): \(escapeText(p.state.summary(geometry)))\n"
          }
        }
      }
      out += "flbs: \(state.flbs.count)\n"
      for (i, f) in state.flbs.enumerated() {
        out +=
          (i == state.flbs.count - 1 ? "└─ " : "├─ ")
          + "\(escapeText(f.name))  data 0x\(String(f.data, radix: 16))  files \(f.count)\n"
        if i < payloads.flbs.count, let p = payloads.flbs[i].payload {
          out +=
            (i == state.flbs.count - 1 ? "   " : "│  ")
            + "   \(escapeText(p.format)): \(escapeText(p.state.summary(geometry)))\n"
        }
      }
      return out
    }
  }

  /// Decodes the LUO state reachable from `rootFDT` leniently and runs the
  /// cross-link checks (with `isPreserved`, when a preserved-memory map is
  /// at hand, also that every referenced page is preserved).
  static func report(
    memory: any PhysicalMemory, rootFDT: FDT, preserved: PreservedSet? = nil
  ) -> Report {
    let isPreserved: ((PhysAddr) -> Bool)? = preserved.map { set in { set.contains(pfn: $0.pfn(set.geometry)) } }
    let blob: PhysAddr
    let size: UInt64?
    do {
      (blob, size) = try LUO.locate(in: rootFDT, order: memory.geometry.byteOrder)
    } catch {
      return Report(problems: [error])
    }
    let read = LUO.decodeReporting(from: memory, blob: blob, size: size)
    guard let decoded = read.value else {
      return Report(blob: blob, blobSize: size, problems: read.allProblems)
    }
    let checks = decoded.crossCheck(isPreserved: isPreserved, memory: isPreserved == nil ? nil : memory)
    let payloads = PayloadInventory.build(luo: decoded, subBlobs: [], memory: memory, preserved: preserved)
    return Report(
      version: decoded.version, blob: blob, blobSize: decoded.layout.blobSize, state: decoded.state,
      problems: read.allProblems + checks.filter { !read.problems.contains($0) }, payloads: payloads,
      payloadProblems: PayloadChecks.run(payloads, preserved: preserved), geometry: memory.geometry)
  }
}

/// The `sessions --format json` document.
struct SessionsJSON: Encodable {
  struct File: Encodable {
    var compatible: String
    var token: UInt64
    var data: String
    var payload: PayloadValue?
  }
  struct Session: Encodable {
    var name: String
    var files: [File]
  }
  struct FLB: Encodable {
    var name: String
    var data: String
    var count: UInt64
    var payload: PayloadValue?
  }
  var liveupdateNumber: UInt64
  var sessions: [Session]
  var flbs: [FLB]
}

/// The handover's preserved-memory map as lookups, when it could be read in full.
struct PreservedLookup {
  let set: PreservedSet

  /// Whether the page holding `address` is preserved.
  func isPreserved(_ address: PhysAddr) -> Bool { set.contains(pfn: address.pfn(set.geometry)) }

  /// The order of the preserved entry that starts at `address`, if any.
  func order(_ address: PhysAddr) -> Int? {
    guard let e = set.covering(pfn: address.pfn(set.geometry)), e.phys == address else { return nil }
    return e.order
  }
}

/// Walks the handover's root and memory map; `nil` when the map is missing or incomplete.
func preservedLookup(_ source: HandoverSource) -> PreservedLookup? {
  let walker = HandoverWalker(source: source)
  walker.walk()
  guard walker.preservedComplete, let set = walker.preserved else { return nil }
  return PreservedLookup(set: set)
}

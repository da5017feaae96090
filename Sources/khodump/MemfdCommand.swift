// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import KHOCore
import KHOFormats
import KHOInspect

/// `khodump memfd IMAGE --session NAME --token N [--out FILE]`: one
/// preserved memfd's metadata, and its contents extracted.
struct MemfdCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "memfd",
    abstract: "Show a preserved memfd (by session name and token) and extract its contents.",
    discussion: """
      The memfd is found through the LUO sessions of the handover. Its folio
      pages must be captured in the image for --out to write the file's
      bytes; pages that are not are written as zeros and reported (exit 1).
      Folio orders are not in the memfd format: they come from the
      preserved-memory map; without a readable map every folio is read as
      one page, which the output says.
      """)

  @OptionGroup var image: ImageOptions

  @Option(help: "The session name.")
  var session: String

  @Option(help: "The file's token (decimal or 0x hex).")
  var token: String

  @Option(help: "Write the file's contents here.")
  var out: String?

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func run() throws {
    guard let tokenValue = Self.parseToken(token) else {
      throw ValidationError("--token must be a decimal or 0x-prefixed hex number")
    }
    let source = try image.open()
    let root = try source.rootFDT()
    let found = try Self.find(memory: source.memory, rootFDT: root, session: session, token: tokenValue)
    var problems = found.problems
    var contents: MemfdContents?
    if let out {
      // Streamed: one chunk in memory at a time, holes left sparse.
      let lookup = preservedLookup(source)
      guard FileManager.default.createFile(atPath: out, contents: nil), let h = FileHandle(forWritingAtPath: out) else {
        throw ValidationError("cannot create \(out): \(String(cString: strerror(errno)))")
      }
      defer { try? h.close() }
      var writeError: (any Error)?
      let found2 = found
      let p = try Memfd.forEachContentsChunk(
        found2.memfd, from: source.memory, folioOrder: lookup.map { l in { l.order($0) } }, missingPages: .zeroFill,
        path: found.path.appending("memfd")
      ) { offset, bytes in
        guard writeError == nil else { return }
        do {
          try h.seek(toOffset: offset)
          try bytes.withUnsafeBytes { try h.write(contentsOf: Data($0)) }
        } catch {
          writeError = error
        }
      }
      if let writeError { throw ValidationError("cannot write \(out): \(writeError.localizedDescription)") }
      try h.truncate(atOffset: found.memfd.state.size)
      problems += p
      contents = MemfdContents(data: [], assumedOrderZero: lookup == nil, problems: p)
    }
    let info = MemfdJSON(found, contents: contents, out: out)
    switch format {
    case .json: try printJSON(info)
    case .text: print(info.text, terminator: "")
    }
    reportProblems(problems)
    if !problems.isEmpty { throw ExitCode(1) }
  }

  static func parseToken(_ s: String) -> UInt64? {
    let t = s.lowercased()
    return t.hasPrefix("0x") ? UInt64(t.dropFirst(2), radix: 16) : UInt64(t)
  }

  /// A memfd found by session and token.
  struct Found {
    var session: String
    var token: UInt64
    var path: DecodePath
    var file: LUOFile
    var memfd: MemfdDecoded
    var problems: [DecodeError]
  }

  /// Finds file `token` of session `session` and decodes its memfd state.
  static func find(memory: any PhysicalMemory, rootFDT: FDT, session: String, token: UInt64)
    throws -> Found
  {
    let (blob, size) = try LUO.locate(in: rootFDT, order: memory.geometry.byteOrder)
    let read = LUO.decodeReporting(from: memory, blob: blob, size: size)
    guard let decoded = read.value else {
      throw read.problems.last ?? DecodeError(.unreadable, "the LUO state could not be read")
    }
    guard let i = decoded.state.sessions.firstIndex(where: { $0.name == session }) else {
      let names = decoded.state.sessions.prefix(8).map(\.name).joined(separator: ", ")
      throw ValidationError(
        "no session named '\(session)' (sessions: \(names)\(decoded.state.sessions.count > 8 ? ", …" : ""))")
    }
    let files = decoded.state.sessions[i].files
    guard let j = files.firstIndex(where: { $0.token == token }) else {
      throw ValidationError("session '\(session)' has no file with token \(token)")
    }
    let file = files[j]
    guard let version = MemfdVersion(compatible: file.compatible) else {
      throw ValidationError("file \(token) of '\(session)' is '\(file.compatible)', not a memfd")
    }
    let path = DecodePath.root.appending(LUO.subnodeName).appending("sessions", index: i).appending("files", index: j)
    let memfd = try Memfd.decode(from: memory, at: file.data, version: version, path: path.appending("memfd"))
    return Found(session: session, token: token, path: path, file: file, memfd: memfd, problems: read.problems)
  }
}

/// The `memfd` output.
struct MemfdJSON: Encodable {
  struct Folio: Encodable {
    var pfn: String
    var flags: UInt16
    var index: UInt64
  }
  var session: String
  var token: UInt64
  var path: String
  var compatible: String
  var address: String
  var pos: UInt64
  var size: UInt64
  var seals: UInt32?
  var nrFolios: Int
  var folioArray: String
  var folioArrayPages: UInt32
  var folios: [Folio]
  var out: String?
  var assumedOrderZero: Bool?

  init(_ f: MemfdCommand.Found, contents: MemfdContents?, out: String?) {
    let m = f.memfd
    session = f.session
    token = f.token
    path = f.path.description
    compatible = f.file.compatible
    address = m.address.description
    pos = m.state.pos
    size = m.state.size
    seals = m.version.hasSeals ? m.state.seals : nil
    nrFolios = m.state.folios.count
    folioArray = m.folioArray.descriptor.first.description
    folioArrayPages = m.folioArray.descriptor.totalPages
    folios = m.state.folios.map { Folio(pfn: "0x" + String($0.pfn, radix: 16), flags: $0.flags, index: $0.index) }
    self.out = out
    assumedOrderZero = contents?.assumedOrderZero
  }

  var text: String {
    var s = "memfd \(compatible) at \(address)  (\(path))\n"
    s += "session '\(session)' token \(token)\n"
    s += "size \(size)  pos \(pos)"
    if let seals { s += "  seals 0x\(String(seals, radix: 16))" }
    s += "\nfolios: \(nrFolios) in a \(folioArrayPages)-page vmalloc array at \(folioArray)\n"
    for f in folios.prefix(16) {
      s += "  index \(f.index)  pfn \(f.pfn)  flags 0x\(String(f.flags, radix: 16))\n"
    }
    if folios.count > 16 { s += "  … \(folios.count - 16) more (use --format json)\n" }
    if let out {
      s += "contents written to \(out)"
      if assumedOrderZero == true { s += " (folio orders unknown: each folio read as one page)" }
      s += "\n"
    }
    return s
  }
}

// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import KHOCompat
import KHOCore
import KHOFormats
import KHOImage
import KHOInspect

/// `khodump compat`: version catalogues, negotiation and the compat matrix.
struct CompatCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compat",
    abstract: "Which handover format versions a kernel writes and reads, and which pairs can hand over.",
    subcommands: [Versions.self, Negotiate.self, Matrix.self])

  /// `khodump compat versions (VMLINUX | IMAGE)`.
  struct Versions: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "versions",
      abstract: "Print a capability manifest for a vmlinux or a handover image.",
      discussion: """
        A vmlinux (ELF ET_EXEC/ET_DYN) is read through its .liveupdate_versions
        section (the RFC's 'LVUP' catalogue of the LUO and file-handler
        versions). Anything else is opened as a handover image (ELF core,
        bundle, DTB, debugfs copy): the manifest lists the versions it
        contains, read from the root FDT and, when physical memory was
        captured, from the head of each sub-blob.
        """)

    @Argument(help: "A vmlinux, or a handover image (ELF core, bundle, DTB, debugfs directory); zstd is fine.")
    var input: String

    @Option(help: "Output format: text or json (the manifest, usable with negotiate).")
    var format: OutputFormat = .text

    @Option(name: .customLong("fdt-phys"), help: "Physical address of the KHO root FDT in an image (hex).")
    var fdtPhys: String?

    func run() throws {
      let manifest = try CompatInputs.manifest(input, fdtPhys: fdtPhys)
      switch format {
      case .text: print(manifest.text(), terminator: "")
      case .json: FileHandle.standardOutput.write(Data(manifest.jsonBytes()))
      }
    }
  }

  /// `khodump compat negotiate --from A --to B [--policy P] [--profile NAME]`.
  struct Negotiate: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "negotiate",
      abstract: "Choose per component the version the outgoing side must write for the incoming side(s).",
      discussion: """
        Manifests are JSON (see Specs/compat-manifest.md) or a vmlinux, whose
        .liveupdate_versions section is read. Give --to several times for a
        fleet whose next kernel is not yet known (dual-write). Exit status 1
        when a mandatory component is blocked.
        """)

    @Option(help: "The outgoing side: a manifest JSON or a vmlinux.")
    var from: String

    @Option(help: "An incoming side: a manifest JSON or a vmlinux (repeatable).")
    var to: [String] = []

    @Option(help: "A policy JSON (mandatory/optional components, profile, dual-write).")
    var policy: String?

    @Option(help: "Profile to use on both sides (overrides the policy's).")
    var profile: String?

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func validate() throws {
      if to.isEmpty { throw ValidationError("give at least one --to") }
    }

    func run() throws {
      let out = try CompatInputs.manifest(from, fdtPhys: nil)
      let ins = try to.map { try CompatInputs.manifest($0, fdtPhys: nil) }
      let pol = try policy.map { try NegotiationPolicy.decode(try CompatInputs.read($0)) } ?? .strict
      let plan = try Negotiator().negotiate(outgoing: out, incoming: ins, policy: pol, profile: profile)
      switch format {
      case .text: print(plan.text(), terminator: "")
      case .json: FileHandle.standardOutput.write(Data(plan.jsonBytes()))
      }
      if !plan.canProceed { throw ExitCode(1) }
    }
  }

  /// `khodump compat matrix [--format md|json]`.
  struct Matrix: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "matrix",
      abstract: "Print the version-compat matrix (the source of Specs/compat-matrix.md and .json).")

    enum Format: String, ExpressibleByArgument, CaseIterable {
      case md, json
    }

    @Option(help: "Output format: md or json.")
    var format: Format = .md

    func run() throws {
      let m = CompatMatrix.generate()
      switch format {
      case .md: print(m.markdown(), terminator: "")
      case .json: FileHandle.standardOutput.write(Data(m.jsonBytes()))
      }
    }
  }
}

/// Turning command-line inputs into manifests.
enum CompatInputs {
  /// The most bytes a manifest or policy file may have.
  static let maxJSON = 16 << 20

  static func read(_ path: String) throws -> [UInt8] {
    let bytes = try InputFile.load(path, limit: maxJSON)
    guard bytes.count <= maxJSON else {
      throw ValidationError("\(path): \(bytes.count) bytes is too large for a manifest or policy")
    }
    return bytes.array
  }

  static func isELF(_ b: Bytes) -> Bool {
    b.count >= 4 && b.byte(at: 0) == 0x7f && b.byte(at: 1) == 0x45 && b.byte(at: 2) == 0x4c && b.byte(at: 3) == 0x46
  }

  /// A manifest from a vmlinux, a handover image or a JSON file.
  static func manifest(_ path: String, fdtPhys: String?) throws -> CapabilityManifest {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
      return try image(path, fdtPhys: fdtPhys)
    }
    let bytes = try InputFile.load(path)
    if isELF(bytes) {
      // A core is a memory image; a vmlinux has sections.
      let type = bytes.count >= 18 ? UInt16(bytes.byte(at: 16) ?? 0) | UInt16(bytes.byte(at: 17) ?? 0) << 8 : 0
      let typeBE = bytes.count >= 18 ? UInt16(bytes.byte(at: 17) ?? 0) | UInt16(bytes.byte(at: 16) ?? 0) << 8 : 0
      let isCore = bytes.byte(at: 5) == 2 ? typeBE == 4 : type == 4
      if isCore { return try image(path, fdtPhys: fdtPhys) }
      let strings = try LiveupdateVersionsSection.read(vmlinux: bytes)
      return CapabilityManifest.fromVersionSection(strings, name: (path as NSString).lastPathComponent)
    }
    if bytes.count >= 4, bytes.byte(at: 0) == 0xd0, bytes.byte(at: 1) == 0x0d {
      return try image(path, fdtPhys: fdtPhys)
    }
    return try CapabilityManifest.decode(bytes.array)
  }

  /// What a handover image contains, as the inspector's walker found it.
  static func image(_ path: String, fdtPhys: String?) throws -> CapabilityManifest {
    let phys = try fdtPhys.map(ImageOptions.parseAddress)
    let source = try HandoverSource.open(path, fdtPhys: phys)
    let report = HandoverWalker(source: source).walk()
    return CapabilityManifest.fromHandover(contents(report, name: (path as NSString).lastPathComponent))
  }

  /// Every version string a walk met, with where.
  static func contents(_ report: HandoverReport, name: String) -> HandoverContents {
    var found: [HandoverContents.Found] = []
    var unread: [String] = []
    func add(_ path: String, _ s: String?) -> Bool {
      guard let s, (try? CompatibleString(parsing: s)) != nil else { return false }
      found.append(.init(path: path, compatible: s))
      return true
    }
    _ = add("/", report.root?.compatible)
    if let mm = report.memoryMap { _ = add("/preserved-memory-map", mm.format) }
    for c in report.components {
      if c.name == KexecMetadata.nodeName {
        if let v = report.kexecMetadata?.version {
          found.append(.init(path: c.path, compatible: "kexec-metadata-v\(v)"))
        } else {
          unread.append(c.name)
        }
        continue
      }
      if !add(c.path, c.compatible) { unread.append(c.name) }
    }
    if let luo = report.luo {
      for (i, s) in luo.sessions.enumerated() {
        for (j, f) in s.files.enumerated() { _ = add("/LUO/sessions[\(i)]/files[\(j)]", f.compatible) }
      }
      for (i, f) in luo.flbs.enumerated() { _ = add("/LUO/flbs[\(i)]", f.name) }
    }
    return HandoverContents(found: found, unreadSubNodes: unread, name: name)
  }
}

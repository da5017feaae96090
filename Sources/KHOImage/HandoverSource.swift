// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import KHOFormats

/// A handover image opened from disk: its memory and where its root is.
///
/// The input kind is detected from content, never from the file name: an
/// ELF64 core (a toolkit bundle when it carries the ``BundleNote``), a
/// kdump-compressed vmcore (``KdumpCore``), a raw DTB, a copied debugfs
/// `kho/` directory; a file may be in makedumpfile's flattened format and
/// zstd compressed around that.
public struct HandoverSource {
  /// What the input turned out to be.
  public enum Kind: String, Sendable, Codable {
    case elfCore = "elf-core"
    /// A kdump-compressed ("diskdump") vmcore, read through libkdumpfile.
    case kdumpCompressed = "kdump-compressed"
    case bundle
    case debugfs
    case dtb
  }

  public let kind: Kind
  public let path: String
  /// Captured physical memory (for a lone DTB: nothing, or the DTB itself
  /// when its address was given).
  public let memory: any PhysicalMemory
  /// The root FDT's physical address, when known.
  public let rootAddress: PhysAddr?
  /// The root FDT bytes when they do not come from `memory` (debugfs, DTB).
  public let rootBytes: Bytes?
  /// Scratch areas, when the source records them (debugfs).
  public let scratch: [PhysRange]?
  /// The bundle note, for bundles.
  public let bundle: BundleNote?
  /// Root candidates found by scanning, when no address was given or noted.
  public let candidates: [RootScanner.Candidate]
  /// What loading found wrong with the input itself (a debugfs file longer than its blob).
  public var loadProblems: [DecodeError] = []
  /// The layers unwrapped to reach the content, outermost first: `zstd`,
  /// `flattened` (makedumpfile's pipe format).
  public var wrappers: [String] = []

  /// Opens `path`, finding the root from `fdtPhys`, a bundle note or a scan.
  ///
  /// `progress` hears how far a root scan has got (0…1), for long scans.
  public static func open(
    _ path: String, fdtPhys: PhysAddr? = nil, geometry: PageGeometry? = nil, debugfsSide: String? = nil,
    locateRoot: Bool = true, progress: ((Double) -> Void)? = nil
  ) throws(DecodeError) -> HandoverSource {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      let d = try DebugfsDirectory(
        path: path, side: debugfsSide, geometry: geometry ?? .x86_64, rootAddress: fdtPhys)
      var s = HandoverSource(
        kind: .debugfs, path: path, memory: d.memory, rootAddress: fdtPhys, rootBytes: d.rootFDT,
        scratch: d.scratch, bundle: nil, candidates: [])
      s.loadProblems = d.oversize.map { o in
        DecodeError(
          .inconsistent, "\(o.name) is \(o.fileSize) bytes but holds a \(o.used)-byte blob; the rest was not read",
          path: DecodePath("/debugfs/" + o.name))
      }
      return s
    }
    let file = try _MappedFile(path: path)
    return try open(
      file: file, name: path, fdtPhys: fdtPhys, geometry: geometry, locateRoot: locateRoot, progress: progress)
  }

  /// Unwraps zstd and the flattened format, then opens what is inside.
  static func open(
    file raw: _MappedFile, name path: String, fdtPhys: PhysAddr?, geometry: PageGeometry?, locateRoot: Bool,
    limit: Int = InputFile.defaultDecompressionLimit, progress: ((Double) -> Void)? = nil
  ) throws(DecodeError) -> HandoverSource {
    var file = raw
    var wrappers: [String] = []
    if Zstd.isCompressed(file.bytes) {
      file = try InputFile.unwrap(file, limit: limit, name: path, image: true)
      wrappers.append("zstd")
    }
    if FlattenedDump.isFlattened(file.bytes) {
      file = try FlattenedDump.reassemble(file, limit: limit, name: path)
      wrappers.append("flattened")
    }
    var source: HandoverSource
    if ELFCore.hasMagic(file.bytes) {
      source = try elf(
        ELFCore(mapped: file, geometry: geometry), path: path, fdtPhys: fdtPhys, locateRoot: locateRoot,
        progress: progress)
    } else if DiskdumpHeader.hasSignature(file.bytes) {
      let core = try KdumpCore(file: file, name: path, geometry: geometry)
      source = located(
        core, kind: .kdumpCompressed, note: nil, path: path, fdtPhys: fdtPhys, locateRoot: locateRoot,
        progress: progress)
    } else {
      source = try open(bytes: file.bytes, name: path, fdtPhys: fdtPhys, geometry: geometry, locateRoot: locateRoot)
    }
    source.wrappers = wrappers + source.wrappers
    return source
  }

  /// An ELF core or bundle, its root from `fdtPhys`, the bundle note, or a scan.
  static func elf(
    _ core: ELFCore, path: String, fdtPhys: PhysAddr?, locateRoot: Bool, progress: ((Double) -> Void)? = nil
  ) -> HandoverSource {
    let note = BundleNote(notes: core.notes)
    return located(
      core, kind: note == nil ? .elfCore : .bundle, note: note, path: path, fdtPhys: fdtPhys, locateRoot: locateRoot,
      progress: progress)
  }

  /// A source over captured memory, its root from `fdtPhys`, the bundle
  /// note, or a scan (which also reads the boot locators).
  static func located(
    _ memory: any PhysicalMemory, kind: Kind, note: BundleNote?, path: String, fdtPhys: PhysAddr?, locateRoot: Bool,
    progress: ((Double) -> Void)? = nil
  ) -> HandoverSource {
    var root = fdtPhys ?? note?.root
    var candidates: [RootScanner.Candidate] = []
    var scanProblem: DecodeError?
    if root == nil, locateRoot {
      candidates = RootScanner.scan(memory, progress: progress, problem: &scanProblem)
      root = RootScanner.choose(candidates)?.address
    }
    if let root, candidates.isEmpty, let c = RootScanner.candidate(memory, root) {
      // Say where a given or noted root came from.
      var c = c
      c.foundBy = [RootScanner.Locator(kind: fdtPhys != nil ? .option : .bundleNote, at: nil)]
      candidates = [c]
    }
    var source = HandoverSource(
      kind: kind, path: path, memory: memory, rootAddress: root,
      rootBytes: nil, scratch: nil, bundle: note, candidates: candidates)
    if let scanProblem {
      var e = scanProblem
      e.message = "the root scan left memory unread: " + e.message
      source.loadProblems.append(e)
    }
    return source
  }

  /// Detects the kind of `bytes` (already decompressed by ``InputFile``, or
  /// zstd here, up to `decompressionLimit` bytes) and opens it like
  /// ``open(_:fdtPhys:geometry:debugfsSide:locateRoot:progress:)``.
  public static func open(
    bytes input: Bytes, name path: String, fdtPhys: PhysAddr? = nil, geometry: PageGeometry? = nil,
    locateRoot: Bool = true, decompressionLimit: Int = InputFile.defaultDecompressionLimit
  ) throws(DecodeError) -> HandoverSource {
    if Zstd.isCompressed(input) {
      // Expanded straight from memory into the file the rest reads.
      let file = try Zstd.decompressToMappedFile(input, limit: decompressionLimit, name: path) {
        (head: [UInt8]) throws(DecodeError) -> Int? in try InputFile.imageExtent(head, name: path)
      }
      var source = try open(
        file: file, name: path, fdtPhys: fdtPhys, geometry: geometry, locateRoot: locateRoot,
        limit: decompressionLimit)
      source.wrappers = ["zstd"] + source.wrappers
      return source
    }
    if FlattenedDump.isFlattened(input) || DiskdumpHeader.hasSignature(input) {
      // These are read from a file (libkdumpfile takes a descriptor).
      let copy = try _SparseTempFile()
      try input.withUnsafeBytes { p throws(DecodeError) in try copy.write(p, at: 0) }
      return try open(
        file: try copy.finish(name: path), name: path, fdtPhys: fdtPhys, geometry: geometry, locateRoot: locateRoot,
        limit: decompressionLimit)
    }
    let bytes = input
    if ELFCore.hasMagic(bytes) {
      return elf(try ELFCore(bytes: bytes, geometry: geometry), path: path, fdtPhys: fdtPhys, locateRoot: locateRoot)
    }
    if (try? FDTHeader(reading: bytes)) != nil {
      let g = geometry ?? .x86_64
      let pieces: [(PhysAddr, Bytes)] = fdtPhys.map { [($0, bytes)] } ?? []
      return HandoverSource(
        kind: .dtb, path: path, memory: try SegmentedMemory(geometry: g, pieces: pieces),
        rootAddress: fdtPhys, rootBytes: bytes, scratch: nil, bundle: nil, candidates: [])
    }
    throw DecodeError(
      .unsupported, "\(path) is neither an ELF core, a kdump-compressed dump, a DTB nor a kho debugfs directory")
  }

  /// The root FDT: parsed from the source's own copy or from memory.
  public func rootFDT() throws(DecodeError) -> FDT {
    if let rootBytes { return try FDT(parsing: rootBytes, allowTrailingBytes: true) }
    guard let rootAddress else {
      if candidates.isEmpty {
        throw DecodeError(.missing, "no KHO root FDT found in \(path); give --fdt-phys")
      }
      let list = candidates.map {
        "\($0.address) (\($0.compatible), found by \($0.foundBy.map(\.description).joined(separator: ", ")))"
      }.joined(separator: "; ")
      throw DecodeError(.inconsistent, "several KHO root candidates: \(list); choose one with --fdt-phys")
    }
    let head = try memory.bytes(at: rootAddress, count: FDTHeader.size, path: .root)
    let h = try FDTHeader(reading: head)
    let size = Int(h.totalSize)
    guard size <= RootScanner.maxRootSize else {
      throw DecodeError(.limitExceeded, "root FDT totalsize \(size) is implausible", address: rootAddress)
    }
    let blob = try memory.bytes(at: rootAddress, count: size, path: .root)
    do { return try FDT(parsing: blob) } catch {
      var e = error
      if e.address == nil, let off = e.offset { e.address = rootAddress.advanced(by: UInt64(off)) }
      throw e
    }
  }
}

extension HandoverSource {
  /// A source assembled from live-host parts (debugfs blobs over RAM).
  public init(
    capturing memory: any PhysicalMemory, root: PhysAddr?, rootBytes: Bytes?, scratch: [PhysRange]?,
    path: String
  ) {
    self.init(
      kind: .debugfs, path: path, memory: memory, rootAddress: root, rootBytes: rootBytes,
      scratch: scratch, bundle: nil, candidates: [])
  }
}

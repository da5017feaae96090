import Foundation
import KHOCore
import KHOFormats

/// A copy of `/sys/kernel/debug/kho/` (or its `in/` or `out/` half).
///
/// debugfs exposes only blobs: the root FDT (`fdt`), each sub-blob
/// (`sub_fdts/<name>`) and the scratch areas (`scratch_phys`, `scratch_len`,
/// one `0x…` line per area). The loader places each sub-blob at the physical
/// address the root FDT gives for it, so decoders can follow the root's
/// pointers; anything beyond those blobs reads as "not captured".
public struct DebugfsDirectory {
  /// The directory holding `fdt` (the `in/` or `out/` half).
  public let directory: String
  /// The root FDT bytes as copied (possibly shorter than its `totalsize`).
  public let rootFDT: Bytes
  /// The sub-blobs placed at their addresses.
  public let memory: SegmentedMemory
  /// Sub-blob name → (address, size).
  public let blobs: [(name: String, address: PhysAddr, size: Int)]
  /// Scratch areas from `scratch_phys`/`scratch_len`, if present.
  public let scratch: [PhysRange]?

  /// Whether `path` looks like a kho debugfs copy (has `fdt`, or `in/fdt` or `out/fdt`).
  public static func resolve(_ path: String, prefer side: String? = nil) -> String? {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return nil }
    if fm.fileExists(atPath: path + "/fdt") { return path }
    for s in [side, "in", "out"].compactMap({ $0 }) where fm.fileExists(atPath: path + "/\(s)/fdt") {
      return path + "/" + s
    }
    return nil
  }

  /// Loads a debugfs copy at `path` (the `kho` directory or one of its halves).
  ///
  /// debugfs does not say where the root FDT lives; when `rootAddress` is
  /// given, the root is placed there too, so that bundles can carry it.
  public init(
    path: String, side: String? = nil, geometry: PageGeometry = .x86_64, rootAddress: PhysAddr? = nil
  ) throws(DecodeError) {
    guard let dir = Self.resolve(path, prefer: side) else {
      throw DecodeError(.unreadable, "\(path) holds no kho debugfs copy (no fdt, in/fdt or out/fdt)")
    }
    var files: [String: Bytes] = ["fdt": try Self.read(dir + "/fdt")]
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/sub_fdts")) ?? []
    for name in names.sorted().prefix(Self.maxBlobs) {
      files["sub_fdts/" + name] = try Self.read(dir + "/sub_fdts/" + name)
    }
    for f in ["scratch_phys", "scratch_len"] {
      if let d = FileManager.default.contents(atPath: dir + "/" + f) { files[f] = Bytes(d) }
    }
    try self.init(files: files, directory: dir, geometry: geometry, rootAddress: rootAddress)
  }

  /// The most sub-blobs read from one copy.
  public static let maxBlobs = 4096

  /// Builds the view from the copied files, keyed by their path inside the
  /// half (`fdt`, `sub_fdts/LUO`, `scratch_phys`, `scratch_len`).
  public init(
    files: [String: Bytes], directory: String = "(memory)", geometry: PageGeometry = .x86_64,
    rootAddress: PhysAddr? = nil
  ) throws(DecodeError) {
    self.directory = directory
    guard let rootBytes = files["fdt"] else {
      throw DecodeError(.missing, "the debugfs copy has no fdt file", path: "/debugfs/fdt")
    }
    rootFDT = rootBytes
    let fdt: FDT
    do { fdt = try FDT(parsing: rootBytes, allowTrailingBytes: true) } catch {
      throw error.at("/debugfs/fdt")
    }
    var pieces: [(PhysAddr, Bytes)] = rootAddress.map { [($0, rootBytes)] } ?? []
    var blobs: [(String, PhysAddr, Int)] = []
    for node in fdt.root.children {
      let prop = node.property("preserved-data") ?? node.property("fdt")
      guard let address = prop?.u64(geometry.byteOrder), address != 0,
        let data = files["sub_fdts/" + node.name]
      else { continue }
      pieces.append((PhysAddr(address), data))
      blobs.append((node.name, PhysAddr(address), data.count))
    }
    self.blobs = blobs
    memory = try SegmentedMemory(geometry: geometry, pieces: pieces)
    scratch = try Self.scratch(files)
  }

  private static func read(_ path: String) throws(DecodeError) -> Bytes {
    guard let d = FileManager.default.contents(atPath: path) else {
      throw DecodeError(.unreadable, "cannot read \(path)")
    }
    return Bytes(d)
  }

  private static func lines(_ data: Bytes?, _ name: String) throws(DecodeError) -> [UInt64]? {
    guard let data else { return nil }
    guard data.count <= 1 << 20 else {
      throw DecodeError(.limitExceeded, "\(name) is over 1 MiB", path: DecodePath("/debugfs/" + name))
    }
    var out: [UInt64] = []
    for (i, line) in String(decoding: data.array, as: UTF8.self).split(separator: "\n").enumerated() {
      let t = line.trimmingCharacters(in: .whitespaces)
      let digits = t.hasPrefix("0x") ? String(t.dropFirst(2)) : t
      guard let v = UInt64(digits, radix: 16) else {
        throw DecodeError(
          .outOfRange, "line \(i + 1) of \(name) is not a hex number: \(t)", path: DecodePath("/debugfs/" + name))
      }
      out.append(v)
    }
    return out
  }

  private static func scratch(_ files: [String: Bytes]) throws(DecodeError) -> [PhysRange]? {
    guard let phys = try lines(files["scratch_phys"], "scratch_phys"),
      let len = try lines(files["scratch_len"], "scratch_len")
    else { return nil }
    guard phys.count == len.count else {
      throw DecodeError(
        .inconsistent, "scratch_phys has \(phys.count) lines, scratch_len \(len.count)", path: "/debugfs")
    }
    return zip(phys, len).map { PhysRange(start: PhysAddr($0), size: $1) }
  }
}

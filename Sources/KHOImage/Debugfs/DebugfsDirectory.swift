// SPDX-License-Identifier: Apache-2.0
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
    // A link that loops is named, not reported as a missing copy.
    for name in ["fdt", "in", "out", "in/fdt", "out/fdt"] {
      try _CopyFile.checkLink(path + "/" + name, root: path, label: name)
    }
    guard let dir = Self.resolve(path, prefer: side) else {
      throw DecodeError(.unreadable, "\(path) holds no kho debugfs copy (no fdt, in/fdt or out/fdt)")
    }
    let root = _CopyFile.realPath(path) ?? path
    // The root FDT: its header says how much to read.
    let head = try _CopyFile.read(dir + "/fdt", root: root, label: "fdt", limit: 40)
    var total = Int(LUO.maxFDTSize)
    if head.count >= 8, let t: UInt32 = try? ByteReader(head, order: .big).integer(at: 4) {
      total = Swift.min(Int(t), total)
    }
    let fdtBytes = try _CopyFile.read(dir + "/fdt", root: root, label: "fdt", limit: total)
    var files: [String: Bytes] = ["fdt": fdtBytes]
    var oversize: [(name: String, fileSize: UInt64, used: Int)] = []
    // Each sub-blob: no more than the root's blob-size says (or the FDT header
    // of a sub-FDT), and never from outside the copy.
    var declared: [String: UInt64] = [:]
    if let fdt = try? FDT(parsing: fdtBytes, allowTrailingBytes: true) {
      for node in fdt.root.children {
        if let s = node.property("blob-size")?.u64(geometry.byteOrder) { declared[node.name] = s }
      }
    }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/sub_fdts")) ?? []
    for name in names.sorted().prefix(Self.maxBlobs) {
      let label = "sub_fdts/" + name
      let file = dir + "/sub_fdts/" + name
      var limit = Int(clamping: declared[name] ?? UInt64(LUO.maxFDTSize))
      if declared[name] == nil {
        let h = try _CopyFile.read(file, root: root, label: label, limit: 8)
        if h.count >= 8, let magic: UInt32 = try? ByteReader(h, order: .big).integer(at: 0), magic == 0xd00d_feed,
          let t: UInt32 = try? ByteReader(h, order: .big).integer(at: 4)
        {
          limit = Swift.min(Int(t), limit)
        }
      }
      limit = Swift.min(limit, Self.maxBlobBytes)
      files[label] = try _CopyFile.read(file, root: root, label: label, limit: limit)
      if let size = _CopyFile.size(file), size > UInt64(limit) {
        oversize.append((label, size, limit))
      }
    }
    for f in ["scratch_phys", "scratch_len"] where FileManager.default.fileExists(atPath: dir + "/" + f) {
      files[f] = try _CopyFile.read(dir + "/" + f, root: root, label: f, limit: 1 << 20)
    }
    try self.init(files: files, directory: dir, geometry: geometry, rootAddress: rootAddress)
    self.oversize = oversize
  }

  /// Files longer than the blob they hold (`blob-size` or the FDT's
  /// `totalsize`): (name, file size, bytes read). The rest was not read.
  public private(set) var oversize: [(name: String, fileSize: UInt64, used: Int)] = []

  /// The largest sub-blob read from a copy (256 MiB).
  public static let maxBlobBytes = 1 << 28

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

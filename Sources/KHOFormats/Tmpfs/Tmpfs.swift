// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A preserved tmpfs mount (`tmpfs-mnt-v1`): `struct tmpfs_luo_mnt_ser` (16 bytes).
public struct TmpfsMountPayload: PayloadState, Hashable {
  /// Size limit in pages (0: unlimited).
  public var maxBlocks: UInt64
  /// Mode of the root directory.
  public var mode: UInt32
  /// Must be 0.
  public var flags: UInt32

  public init(maxBlocks: UInt64, mode: UInt32, flags: UInt32 = 0) {
    self.maxBlocks = maxBlocks
    self.mode = mode
    self.flags = flags
  }

  public var fields: PayloadValue {
    .object([("max_blocks", .int(maxBlocks)), ("mode", .hex(UInt64(mode))), ("flags", .hex(UInt64(flags)))])
  }
}

/// A preserved file of a tmpfs mount (`tmpfs-file-v1`): `struct tmpfs_luo_file_ser` (312 bytes).
///
/// | off | size | field |
/// |---|---|---|
/// | 0 | 8 | `mnt_token`: the `tmpfs-mnt-v1` file of the session |
/// | 8 | 8 | `pos` |
/// | 16 | 8 | `size` |
/// | 24 | 4 | `mode` (permission bits) |
/// | 28 | 4 | `flags` (must be 0) |
/// | 32 | 8 | `nr_folios` |
/// | 40 | 16 | `folios`: ``VMallocDescriptor`` → memfd folio entries |
/// | 56 | 256 | `name`: one path component, NUL-terminated, zero after |
public struct TmpfsFilePayload: PayloadState, Hashable {
  public static let nameSize = 256

  public var mntToken: UInt64
  public var pos: UInt64
  public var size: UInt64
  public var mode: UInt32
  public var flags: UInt32
  public var folios: [MemfdFolio]
  public var name: String
  public var folioArray: VMallocDescriptor = .empty

  public init(
    mntToken: UInt64, pos: UInt64 = 0, size: UInt64, mode: UInt32, flags: UInt32 = 0, folios: [MemfdFolio], name: String
  ) {
    self.mntToken = mntToken
    self.pos = pos
    self.size = size
    self.mode = mode
    self.flags = flags
    self.folios = folios
    self.name = name
  }

  public var fields: PayloadValue {
    .object([
      ("mnt_token", .hex(mntToken)), ("pos", .int(pos)), ("size", .int(size)), ("mode", .hex(UInt64(mode))),
      ("flags", .hex(UInt64(flags))), ("nr_folios", .int(UInt64(folios.count))),
      ("folios", .vmalloc(folioArray, entries: folios.map(PayloadValue.folio))), ("name", .string(name)),
    ])
  }
}

/// The `tmpfs-mnt-v1` codec.
public enum TmpfsMount: PayloadCodec {
  public static let compatible = "tmpfs-mnt-v1"
  public static var names: [(String, PayloadHost)] { [(compatible, .file)] }

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError)
    -> DecodedPayload
  {
    var r = try _PayloadArrays.header(c, size: 16)
    let s = TmpfsMountPayload(maxBlocks: try r.u64(), mode: try r.u32(), flags: try r.u32())
    if s.flags != 0 {
      try problems.report(
        r.error(.unsupported, "flags 0x\(String(s.flags, radix: 16)) has bits tmpfs-mnt-v1 does not define", at: 12))
    }
    return DecodedPayload(
      compatible: c.compatible, format: compatible, address: c.address, state: s,
      references: [PayloadReference(.metadata, c.address, path: c.path, what: "tmpfs_luo_mnt_ser")])
  }

  public static func encode(_ state: TmpfsMountPayload, into w: inout PayloadWriter) throws(EncodeError) -> PhysAddr {
    var s = _PayloadWriter(w.order)
    s.u64(state.maxBlocks)
    s.u32(state.mode)
    s.u32(state.flags)
    return try w.place(s)
  }
}

/// The `tmpfs-file-v1` codec.
public enum TmpfsFile: PayloadCodec {
  public static let compatible = "tmpfs-file-v1"
  public static let serSize = 312
  public static var names: [(String, PayloadHost)] { [(compatible, .file)] }

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError)
    -> DecodedPayload
  {
    var r = try _PayloadArrays.header(c, size: serSize)
    let mnt = try r.u64()
    let pos = try r.u64()
    let size = try r.u64()
    let mode = try r.u32()
    let flags = try r.u32()
    let nr = try r.u64()
    let descriptor = try VMallocDescriptor(reading: &r)
    let raw = try r.bytes(count: TmpfsFilePayload.nameSize).array
    if flags != 0 {
      try problems.report(
        r.error(.unsupported, "flags 0x\(String(flags, radix: 16)) has bits tmpfs-file-v1 does not define", at: 28))
    }
    let nul = raw.firstIndex(of: 0)
    let nameBytes = Array(raw[..<(nul ?? raw.count)])
    let name = String(decoding: nameBytes, as: UTF8.self)
    if nul == nil || String(validating: nameBytes, as: UTF8.self) == nil || nameBytes.isEmpty
      || nameBytes.contains(UInt8(ascii: "/")) || name == "." || name == ".."
      || raw[(nul ?? raw.count)...].contains(where: { $0 != 0 })
    {
      try problems.report(
        r.error(.badString, "name is not one NUL-terminated path component with zeros after it", at: 56))
    }
    var refs = [PayloadReference(.metadata, c.address, path: c.path, what: "tmpfs_luo_file_ser")]
    let p = c.path.appending("folios")
    var ar = try _PayloadArrays.read(
      descriptor, declared: nr, entrySize: 16, countName: "nr_folios", memory: c.memory, path: p,
      descriptorAddress: c.address.advanced(by: 40), countAddress: c.address.advanced(by: 32),
      what: "tmpfs folio", problems: &problems, references: &refs)
    let folios = try _PayloadArrays.folios(&ar, count: ar.remaining / 16)
    try _FolioChecks.check(
      folios, fileSize: size, order: 0, path: p, geometry: c.geometry, problems: &problems, references: &refs,
      what: "tmpfs folio")
    var s = TmpfsFilePayload(mntToken: mnt, pos: pos, size: size, mode: mode, flags: flags, folios: folios, name: name)
    s.folioArray = descriptor
    return DecodedPayload(compatible: c.compatible, format: compatible, address: c.address, state: s, references: refs)
  }

  public static func encode(_ state: TmpfsFilePayload, into w: inout PayloadWriter, path: DecodePath = .root)
    throws(EncodeError) -> PhysAddr
  {
    let name = Array(state.name.utf8)
    guard !name.isEmpty, name.count < TmpfsFilePayload.nameSize, !name.contains(0), !name.contains(UInt8(ascii: "/"))
    else {
      throw EncodeError(.badString, "name must be one path component of 1-255 bytes", path: path.appending("name"))
    }
    let d = try w.folioArray(state.folios, path: path.appending("folios"))
    var s = _PayloadWriter(w.order)
    s.u64(state.mntToken)
    s.u64(state.pos)
    s.u64(state.size)
    s.u32(state.mode)
    s.u32(state.flags)
    s.u64(UInt64(state.folios.count))
    s.descriptor(d)
    s.raw(name)
    s.zeros(TmpfsFilePayload.nameSize - name.count)
    return try w.place(s)
  }
}

extension TmpfsMountPayload {
  public func summary(_ g: PageGeometry) -> String {
    "mode \(String(mode, radix: 8)), " + (maxBlocks == 0 ? "unlimited" : formatBytes(maxBlocks &* g.pageSize64))
  }
}

extension TmpfsFilePayload {
  public func summary(_ g: PageGeometry) -> String {
    "\(formatBytes(size)), \(folios.count) folio\(folios.count == 1 ? "" : "s"), mount token 0x\(String(mntToken, radix: 16))"
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// One sub-node of the KHO root: a named blob some subsystem handed over.
public struct KHOSubBlob: Hashable, Sendable, Codable {
  /// The node name (`LUO`, `memblock`, `kexec-metadata`, …).
  public var name: String
  /// The blob's physical address (`fdt` in kho-v1, `preserved-data` later).
  public var address: PhysAddr
  /// The blob's size from `blob-size` (kho-v3 and later); `nil` before,
  /// where the blob is an FDT whose header gives its size.
  public var size: UInt64?

  public init(name: String, address: PhysAddr, size: UInt64? = nil) {
    self.name = name
    self.address = address
    self.size = size
  }

  /// ``size``, or when absent the `totalsize` of the FDT header at ``address``.
  public func resolvedSize(in memory: any PhysicalMemory) throws(DecodeError) -> UInt64 {
    if let size { return size }
    let path = DecodePath.root.appending(name)
    let header = try memory.bytes(at: address, count: 8, path: path)
    let r = ByteReader(header, order: .big, path: path, base: address)
    let magic: UInt32 = try r.integer(at: 0)
    guard magic == FDTHeader.magicValue else {
      throw r.error(
        .badMagic,
        "sub-blob has no blob-size and is not an FDT (magic 0x\(String(magic, radix: 16)))", at: 0)
    }
    let total: UInt32 = try r.integer(at: 4)
    return UInt64(total)
  }
}

/// The KHO root FDT: version, preserved-memory map address and sub-blobs
/// (kho-abi.md §2; `Specs/kho-root.md`).
///
/// Sub-blobs keep the order found in the FDT. The kernel adds each new
/// sub-node before the existing ones, so that order is the reverse of
/// registration.
///
///     let root = try KHORoot.decode(try FDT(parsing: dtb, allowTrailingBytes: true))
///     root.version                       // .v4
///     root.memoryMap                     // 0x100709600 (radix root)
///     root.subBlob(named: "LUO")?.size   // 32
public struct KHORoot: Hashable, Sendable {
  /// The version, from the root `compatible`.
  public var version: KHORootVersion
  /// `preserved-memory-map`: the first chunk (kho-v1) or the radix root.
  /// kho-v1 allows 0 (nothing serialized yet / nothing preserved).
  public var memoryMap: PhysAddr
  /// The sub-nodes, in FDT order.
  public var subBlobs: [KHOSubBlob]

  public init(version: KHORootVersion, memoryMap: PhysAddr, subBlobs: [KHOSubBlob] = []) {
    self.version = version
    self.memoryMap = memoryMap
    self.subBlobs = subBlobs
  }

  /// The sub-blob called `name`, if any.
  public func subBlob(named name: String) -> KHOSubBlob? {
    subBlobs.first { $0.name == name }
  }

  /// Decodes the root from a parsed FDT, failing on the first problem.
  ///
  /// Checks: `compatible` is one string naming a known version
  /// (`unknownVersion` otherwise, naming what was seen and what is known);
  /// `preserved-memory-map` is present, 8 bytes, and non-zero for kho-v2+;
  /// each sub-node has its address property (8 bytes, non-zero), plus an
  /// 8-byte `blob-size` in kho-v3+; sub-node names are unique.
  /// u64 values are raw copies in `byteOrder` (little-endian on every KHO
  /// platform today).
  public static func decode(_ fdt: FDT, byteOrder: ByteOrder = .little) throws(DecodeError) -> KHORoot {
    var problems = DecodeProblems(strict: true)
    guard let root = try decode(fdt, byteOrder, &problems) else {
      throw DecodeError(.missing, "no KHO root", path: .root)
    }
    return root
  }

  /// Parses `bytes` as a DTB (a whole page may follow `totalsize`) and decodes it.
  public static func decode(_ bytes: Bytes, byteOrder: ByteOrder = .little) throws(DecodeError) -> KHORoot {
    try decode(try FDT(parsing: bytes, allowTrailingBytes: true), byteOrder: byteOrder)
  }

  /// Decodes what it can: the root (`nil` when its `compatible` or map
  /// property is unusable) and every problem, bad sub-nodes left out.
  public static func decodeReporting(_ fdt: FDT, byteOrder: ByteOrder = .little) -> DecodeOutcome<KHORoot> {
    var problems = DecodeProblems(strict: false)
    do { return DecodeOutcome(try decode(fdt, byteOrder, &problems), problems) } catch {
      problems.record(error)
      return DecodeOutcome(nil, problems)
    }
  }

  /// Whether `name` is a node name dtc accepts: `[A-Za-z0-9,._+-]`, then an optional `@unit-address`.
  static func isValidNodeName(_ name: String) -> Bool {
    guard !name.isEmpty, name.utf8.count <= 31 + 1 + 64 else { return false }
    let allowed = { (u: Unicode.Scalar) -> Bool in
      u.isASCII
        && (("a"..."z").contains(u) || ("A"..."Z").contains(u) || ("0"..."9").contains(u)
          || ",._+-".unicodeScalars.contains(u))
    }
    let parts = name.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
    guard let base = parts.first, !base.isEmpty, base.unicodeScalars.allSatisfy(allowed) else { return false }
    return parts.count == 1 || parts[1].unicodeScalars.allSatisfy(allowed)
  }

  private static func decode(
    _ fdt: FDT, _ order: ByteOrder, _ problems: inout DecodeProblems
  ) throws(DecodeError) -> KHORoot? {
    func fail(_ e: DecodeError) throws(DecodeError) { try problems.report(e) }
    let top = fdt.root
    // What dtc refuses in the nodes the toolkit reads: a property name used
    // twice in one node (fdt_getprop silently takes the first) and node
    // names outside dtc's character set (a '/', control characters).
    func duplicateProperties(_ node: FDT.Node, _ path: DecodePath) throws(DecodeError) {
      var seen = Set<String>()
      for p in node.properties where !seen.insert(p.name).inserted {
        try fail(
          DecodeError(
            .duplicate, "property '\(p.name)' appears twice in one node; dtc refuses this and readers take the first",
            path: path, offset: p.valueOffset))
      }
    }
    try duplicateProperties(top, .root)
    guard let compat = top.property("compatible") else {
      try fail(DecodeError(.missing, "the root has no 'compatible' property", path: .root))
      return nil
    }
    guard let text = compat.string else {
      try fail(
        DecodeError(
          .badString, "root 'compatible' is not one NUL-terminated string", path: .root,
          offset: compat.valueOffset))
      return nil
    }
    let version: KHORootVersion
    do { version = try KHORootVersion(compatible: text) } catch {
      var e = error
      e.offset = compat.valueOffset
      try fail(e)
      return nil
    }
    guard let mapProp = top.property("preserved-memory-map") else {
      try fail(DecodeError(.missing, "the root has no 'preserved-memory-map' property", path: .root))
      return nil
    }
    guard let map = mapProp.u64(order) else {
      try fail(
        DecodeError(
          .badCount, "'preserved-memory-map' is \(mapProp.length) bytes, expected 8", path: .root,
          offset: mapProp.valueOffset))
      return nil
    }
    if map == 0 && version != .v1 {
      try fail(
        DecodeError(
          .missing, "'preserved-memory-map' is 0; a \(version) root always points to its radix root",
          path: .root, offset: mapProp.valueOffset))
      return nil
    }
    var blobs: [KHOSubBlob] = []
    var names: Set<String> = []
    for node in top.children {
      let path = DecodePath.root.appending(node.name)
      if !Self.isValidNodeName(node.name) {
        try fail(
          DecodeError(
            .badString,
            "sub-node name has characters dtc does not allow in a node name ('/', control or non-ASCII bytes)",
            path: DecodePath.root.appending(
              String(
                node.name.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f || $0 == "/" ? "?" : Character($0) })
            ),
            offset: node.offset))
        continue
      }
      try duplicateProperties(node, path)
      guard names.insert(node.name).inserted else {
        try fail(DecodeError(.duplicate, "a second sub-node named '\(node.name)'", path: path, offset: node.offset))
        continue
      }
      let pointerName = version.subBlobProperty
      guard let pointer = node.property(pointerName) else {
        let other = version == .v1 ? "preserved-data" : "fdt"
        var hint = ""
        if node.property(other) != nil {
          hint = " (it has '\(other)', which \(version == .v1 ? "kho-v2 and later use" : "kho-v1 uses"))"
        }
        try fail(
          DecodeError(
            .missing, "sub-node has no '\(pointerName)' property\(hint)", path: path, offset: node.offset))
        continue
      }
      guard let address = pointer.u64(order) else {
        try fail(
          DecodeError(
            .badCount, "'\(pointerName)' is \(pointer.length) bytes, expected 8", path: path,
            offset: pointer.valueOffset))
        continue
      }
      guard address != 0 else {
        try fail(DecodeError(.missing, "'\(pointerName)' is 0", path: path, offset: pointer.valueOffset))
        continue
      }
      var size: UInt64?
      if version.hasBlobSize {
        guard let sizeProp = node.property("blob-size") else {
          try fail(
            DecodeError(
              .missing, "sub-node has no 'blob-size' property, required since kho-v3", path: path,
              offset: node.offset))
          continue
        }
        guard let v = sizeProp.u64(order) else {
          try fail(
            DecodeError(
              .badCount, "'blob-size' is \(sizeProp.length) bytes, expected 8", path: path,
              offset: sizeProp.valueOffset))
          continue
        }
        size = v
      }
      blobs.append(KHOSubBlob(name: node.name, address: PhysAddr(address), size: size))
    }
    return KHORoot(version: version, memoryMap: PhysAddr(map), subBlobs: blobs)
  }
}

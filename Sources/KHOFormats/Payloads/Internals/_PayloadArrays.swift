// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Reading the arrays payloads keep behind a `kho_vmalloc` descriptor.
enum _PayloadArrays {
  /// Reads `declared` entries of `entrySize` bytes from the vmalloc area of
  /// `descriptor` and lists the area's pages as references.
  ///
  /// Checks: a zero count has an all-zero descriptor and a non-zero count a
  /// chunk (`DecodeError/Kind/inconsistent`, `DecodeError/Kind/missing`);
  /// the chain (see ``VMalloc``); `declared × entrySize` fits the area
  /// (`DecodeError/Kind/truncated`: the count is clamped to what fits).
  static func read(
    _ descriptor: VMallocDescriptor, declared: UInt64, entrySize: Int, countName: String,
    memory: any PhysicalMemory, path: DecodePath, descriptorAddress: PhysAddr?, countAddress: PhysAddr?,
    what: String, problems: inout DecodeProblems, references: inout [PayloadReference],
    emptyMayKeepArray: Bool = false
  ) throws(DecodeError) -> ByteReader {
    let order = memory.geometry.byteOrder
    let empty = ByteReader(Bytes([]), order: order, path: path)
    if declared == 0 {
      if !descriptor.isEmpty && !emptyMayKeepArray {
        try problems.report(
          DecodeError(
            .inconsistent, "\(countName) is 0 but the descriptor is not empty", path: path, address: descriptorAddress))
      }
      return empty
    }
    guard !descriptor.first.isZero else {
      try problems.report(
        DecodeError(
          .missing, "\(countName) is \(declared) but the array has no chunk", path: path, address: descriptorAddress))
      return empty
    }
    var sub = DecodeProblems(strict: problems.strict)
    let area = try VMalloc.walk(descriptor, memory, path, descriptorAddress, &sub)
    try problems.report(contentsOf: sub.list)
    for (i, c) in area.chunks.enumerated() {
      references.append(
        PayloadReference(.metadata, c, path: path.appending("chunk", index: i), what: "\(what) vmalloc chunk"))
    }
    for (i, r) in area.runs.enumerated() {
      references.append(
        PayloadReference(
          .metadata, r, pages: UInt64(1) << UInt64(area.descriptor.order), path: path.appending("run", index: i),
          what: "\(what) array page"))
    }
    let (need, overflow) = declared.multipliedReportingOverflow(by: UInt64(entrySize))
    var count = declared
    if overflow || need > area.byteCount {
      try problems.report(
        DecodeError(
          .truncated,
          "\(countName) \(declared) needs \(overflow ? "more than 2^64" : String(need)) bytes; the array holds \(area.byteCount)",
          path: path, address: countAddress))
      count = area.byteCount / UInt64(entrySize)
    }
    let raw = try VMalloc.readData(area, count: Int(count) * entrySize, from: memory, path: path)
    return ByteReader(Bytes(raw), order: order, path: path)
  }

  /// Reads `count` folio entries (16 bytes: `pfn:52 | flags:12`, `index`).
  static func folios(_ r: inout ByteReader, count: Int) throws(DecodeError) -> [MemfdFolio] {
    var out: [MemfdFolio] = []
    out.reserveCapacity(count)
    for _ in 0..<count {
      let w = try r.u64()
      let x = try r.u64()
      out.append(MemfdFolio(packed: w, index: x, order: r.order))
    }
    return out
  }

  /// Reads the struct at the payload's address, bounded by its allocation.
  static func header(_ context: PayloadContext, size: Int) throws(DecodeError) -> ByteReader {
    try context.memory.reader(at: context.address, count: size, path: context.path)
  }
}

/// Sub-blobs that are FDTs.
enum _PayloadFDT {
  /// Whether the payload starts with the FDT magic.
  static func isFDT(_ c: PayloadContext) -> Bool {
    guard let h = try? c.memory.reader(at: c.address, count: 4, path: c.path) else { return false }
    return (try? h.integer(at: 0, as: UInt32.self)) == (c.geometry.byteOrder == .little ? 0xedfe_0dd0 : 0xd00d_feed)
  }

  /// Reads the sub-FDT at the payload's address, bounded by its allocation.
  static func read(_ c: PayloadContext) throws(DecodeError) -> FDT {
    let head = try c.memory.bytes(at: c.address, count: 8, path: c.path)
    let total = Int(try ByteReader(head, order: .big, path: c.path, base: c.address).integer(at: 4, as: UInt32.self))
    let limit = c.allocationBytes(at: c.address, fallbackPages: 16)
    guard total >= 40, total <= limit else {
      throw DecodeError(
        .outOfRange, "sub-FDT totalsize \(total) is outside 40...\(limit) bytes", path: c.path, address: c.address)
    }
    return try FDT(parsing: try c.memory.bytes(at: c.address, count: total, path: c.path), allowTrailingBytes: true)
  }

  /// The root node's `compatible` checked against `expected`.
  static func checkCompatible(_ fdt: FDT, _ expected: String, _ c: PayloadContext, _ problems: inout DecodeProblems)
    throws(DecodeError)
  {
    let got = fdt.root.property("compatible")?.string
    if got != expected {
      try problems.report(
        DecodeError(
          got == nil ? .missing : .unknownVersion,
          got.map { "compatible is '\($0)', expected '\(expected)'" }
            ?? "no compatible property; expected '\(expected)'",
          path: c.path, address: c.address))
    }
  }
}

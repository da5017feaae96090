// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension Memfd {
  /// Writes `state` as `version`: a `memfd_luo_ser` page, then the folio
  /// array's pages, then its vmalloc chunks (the kernel's order). Returns
  /// the address to store in the file's `data` field.
  ///
  /// - Throws: `EncodeError/Kind/notRepresentable` when memfd-v1 is asked
  ///   to keep seals, or memfd-v2 a non-zero `flags` or an unknown seal;
  ///   `EncodeError/Kind/outOfRange` for a PFN over 52 bits or folio flags
  ///   over 12 bits.
  public static func encode(
    _ state: MemfdState, as version: MemfdVersion, into image: PhysicalImage,
    allocator: inout PageAllocator, path: DecodePath = .root
  ) throws(EncodeError) -> PhysAddr {
    try check(state, as: version, path: path)
    let g = image.geometry
    let ser = try allocator.allocate(in: image)
    var array: [UInt8] = []
    array.reserveCapacity(state.folios.count * folioEntrySize)
    for f in state.folios {
      appendInteger(&array, f.packed(g.byteOrder), g.byteOrder)
      appendInteger(&array, f.index, g.byteOrder)
    }
    let descriptor = try VMalloc.encode(
      data: array, into: image, allocator: &allocator, path: path.appending("folios"))
    var a = ser.rawValue
    func put<T: FixedWidthInteger>(_ v: T) {
      image.store(v, at: PhysAddr(a))
      a += UInt64(MemoryLayout<T>.size)
    }
    if version.featureHeaderSize > 0 {
      for _ in 0..<3 { put(MemfdVersion.knownFeatures) }
      a += UInt64(version.featureHeaderSize - 24)
    }
    put(state.pos)
    put(state.size)
    if version.hasSeals {
      put(state.seals)
      put(state.flags)
    }
    put(UInt64(state.folios.count))
    descriptor.write(to: image, at: PhysAddr(a))
    return ser
  }

  /// Refuses what `version` cannot store.
  public static func check(_ state: MemfdState, as version: MemfdVersion, path: DecodePath = .root)
    throws(EncodeError)
  {
    if !version.hasSeals, state.seals != 0 || state.flags != 0 {
      throw EncodeError(
        .notRepresentable,
        "\(version) does not preserve seals or flags (seals 0x\(String(state.seals, radix: 16)))",
        path: path.appending("seals"))
    }
    if state.flags != 0 {
      throw EncodeError(
        .notRepresentable, "\(version) requires flags 0, got 0x\(String(state.flags, radix: 16))",
        path: path.appending("flags"))
    }
    if state.seals & ~MemfdState.allSeals != 0 {
      throw EncodeError(
        .notRepresentable,
        "seals 0x\(String(state.seals, radix: 16)) has bits outside MEMFD_LUO_ALL_SEALS (0x3f)",
        path: path.appending("seals"))
    }
    for (i, f) in state.folios.enumerated()
    where f.pfn > MemfdFolio.maxPFN || f.flags > MemfdFolio.maxFlags {
      throw EncodeError(
        .outOfRange, "pfn 0x\(String(f.pfn, radix: 16)) or flags 0x\(String(f.flags, radix: 16)) too wide",
        path: path.appending("folios", index: i))
    }
  }

  /// Builds a whole memfd: allocates one order-0 folio per non-zero page of
  /// `contents`, copies the page in (flags dirty and up to date), then
  /// writes the state with ``encode(_:as:into:allocator:path:)``.
  public static func encodeFile(
    contents: [UInt8], pos: UInt64 = 0, seals: UInt32 = 0, as version: MemfdVersion,
    into image: PhysicalImage, allocator: inout PageAllocator, path: DecodePath = .root
  ) throws(EncodeError) -> (address: PhysAddr, state: MemfdState) {
    let g = image.geometry
    var folios: [MemfdFolio] = []
    var start = 0
    while start < contents.count {
      let end = Swift.min(start + g.pageSize, contents.count)
      let chunk = contents[start..<end]
      if chunk.contains(where: { $0 != 0 }) {
        let page = try allocator.allocate(in: image)
        chunk.withUnsafeBytes { src in
          _PageWriter.withMutableBytes(at: page, count: src.count, in: image) { $0.copyMemory(from: src) }
        }
        folios.append(
          MemfdFolio(
            pfn: page.pfn(g), flags: MemfdFolio.dirty | MemfdFolio.uptodate,
            index: UInt64(start / g.pageSize)))
      }
      start = end
    }
    let state = MemfdState(pos: pos, size: UInt64(contents.count), seals: seals, folios: folios)
    let address = try encode(state, as: version, into: image, allocator: &allocator, path: path)
    return (address, state)
  }

  static func appendInteger(_ out: inout [UInt8], _ v: UInt64, _ order: ByteOrder) {
    let raw = order == .little ? v.littleEndian : v.bigEndian
    withUnsafeBytes(of: raw) { out.append(contentsOf: $0) }
  }
}

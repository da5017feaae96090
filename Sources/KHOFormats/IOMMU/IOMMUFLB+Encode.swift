// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension IOMMUFLB {
  /// Writes the FLB in `state.layout`: the top struct and one array page per
  /// object kind (chained when full). Domain page tables are the caller's
  /// (``IOMMUPageTable/build(_:levels:into:)``). Objects' `address` fields are ignored;
  /// devices name their domain and IOMMU by index through `domainIndex`/`iommuIndex`.
  public static func encode(
    _ state: IOMMUPayload, domainIndex: [Int?], iommuIndex: [Int?], into w: inout PayloadWriter,
    path: DecodePath = .root
  ) throws(EncodeError) -> PhysAddr {
    guard let L = IOMMULayout.all[state.layout] else { throw EncodeError(.outOfRange, "no layout", path: path) }
    let order = w.order
    let g = w.image.geometry
    func header(_ b: inout [UInt8], _ o: Int, _ h: IOMMUObjectHeader) {
      put(&b, o + L.refCount, h.refCount)
      if L.flagsWidth == 1 {
        b[o + L.flags] = UInt8(truncatingIfNeeded: h.flags)
      } else {
        put(&b, o + L.flags, h.flags)
      }
    }
    func put<T: FixedWidthInteger>(_ b: inout [UInt8], _ o: Int, _ v: T) {
      let x = order == .little ? v.littleEndian : v.bigEndian
      withUnsafeBytes(of: x) { for (i, byte) in $0.enumerated() { b[o + i] = byte } }
    }
    // Place arrays: hardware and domains first so devices can point at them.
    func writeArray(_ objects: [[UInt8]], size: Int) throws(EncodeError) -> (head: PhysAddr, addresses: [PhysAddr]) {
      let capacity = (g.pageSize - 16) / size
      var pages: [PhysAddr] = []
      var addrs: [PhysAddr] = []
      let chunks = stride(from: 0, to: objects.count, by: capacity).map {
        Array(objects[$0..<Swift.min($0 + capacity, objects.count)])
      }
      for _ in chunks { pages.append(try w.place(_PayloadWriter(order))) }
      for (k, chunk) in chunks.enumerated() {
        var b = [UInt8](repeating: 0, count: 16 + chunk.count * size)
        put(&b, 0, k + 1 < pages.count ? pages[k + 1].rawValue : 0)
        put(&b, 8, UInt64(chunk.count))
        for (i, o) in chunk.enumerated() {
          b.replaceSubrange(16 + i * size..<16 + (i + 1) * size, with: o)
          addrs.append(PhysAddr(pages[k].rawValue + UInt64(16 + i * size)))
        }
        w.image.write(b, at: pages[k])
      }
      return (pages.first ?? .zero, addrs)
    }
    let hw = try writeArray(
      state.hardware.map { h in
        var b = [UInt8](repeating: 0, count: L.hwSize)
        header(&b, 0, h.header)
        put(&b, L.token, h.token)
        if L.id == .i1 { put(&b, L.type, UInt32(truncatingIfNeeded: h.type)) } else { put(&b, L.type, h.type) }
        if h.type == 1, let p = L.intelPhys, let rt = L.intelRootTable {
          put(&b, p, h.registerBase)
          put(&b, rt, h.rootTable)
        }
        return b
      }, size: L.hwSize)
    let doms = try writeArray(
      state.domains.map { d in
        var b = [UInt8](repeating: 0, count: L.domainSize)
        header(&b, 0, d.header)
        put(&b, L.topTable, d.topTable.rawValue)
        put(&b, L.topLevel, d.topLevel)
        if let v = L.vasz { put(&b, v, d.vasz ?? 0) }
        return b
      }, size: L.domainSize)
    let devs = try writeArray(
      state.devices.enumerated().map { i, d in
        var b = [UInt8](repeating: 0, count: L.deviceSize)
        header(&b, 0, d.header)
        put(&b, L.devid, d.devid)
        put(&b, L.pciDomain, d.pciDomain)
        if let x = L.attachmentID { put(&b, x, d.attachmentID) }
        let dom =
          i < domainIndex.count ? domainIndex[i].flatMap { $0 < doms.addresses.count ? doms.addresses[$0] : nil } : nil
        let mmu =
          i < iommuIndex.count ? iommuIndex[i].flatMap { $0 < hw.addresses.count ? hw.addresses[$0] : nil } : nil
        put(&b, L.domainPhys, (dom ?? d.domainPhys).rawValue)
        put(&b, L.iommuPhys, (mmu ?? d.iommuPhys).rawValue)
        if let x = L.pasidTable { put(&b, x, d.pasidTable) }
        if let x = L.maxPasid { put(&b, x, d.maxPasid) }
        if let x = L.dmaOwnerToken { put(&b, x, d.dmaOwnerToken) }
        return b
      }, size: L.deviceSize)
    var top = _PayloadWriter(order)
    if L.id == .i1 {
      top.u64(hw.head.rawValue); top.u64(UInt64(state.hardware.count))
      top.u64(doms.head.rawValue); top.u64(UInt64(state.domains.count))
      top.u64(devs.head.rawValue); top.u64(UInt64(state.devices.count))
    } else {
      if L.topSize == 32 { top.u64(state.version ?? 1) }
      top.u64(hw.head.rawValue)
      top.u64(doms.head.rawValue)
      top.u64(devs.head.rawValue)
    }
    return try w.place(top)
  }
}

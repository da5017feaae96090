// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The MSHV (Hyper-V root partition) sub-FDT `mshv_prsv_pt`: pages deposited
/// to the hypervisor, kept across the kexec.
///
/// A one-page FDT whose root has `compatible = "mshv_kho-v1"`,
/// `root_table` (8 bytes, native u64: the root of a KHO radix tree of the
/// deposited pages) and, in layout M-B, `partition_ids` (8, native u64:
/// a page of u64 partition ids) with `nr_partition_ids` (4, native u32).
/// M-B keys the tree as the preserved-memory map does (`(pfn, order)`);
/// M-A keys it by raw PFN, which the map's formula reads as an order far
/// above any page order: that is how the layouts are told apart.
public struct MSHVPayload: PayloadState, Equatable {
  public enum Layout: String, Sendable, Hashable {
    case pfnOrder = "M-B"
    case rawPFN = "M-A"
  }
  /// The most partition ids the later handler accepts.
  public static let maxPartitionIDs = 512

  public var layout: Layout
  public var rootTable: PhysAddr
  public var partitionIDs: [UInt64]
  public var partitionIDPage: PhysAddr
  /// The deposited pages.
  public var deposited: PreservedSet

  public init(
    layout: Layout, rootTable: PhysAddr, partitionIDs: [UInt64] = [], partitionIDPage: PhysAddr = .zero,
    deposited: PreservedSet
  ) {
    self.layout = layout
    self.rootTable = rootTable
    self.partitionIDs = partitionIDs
    self.partitionIDPage = partitionIDPage
    self.deposited = deposited
  }

  public var fields: PayloadValue {
    .object([
      ("compatible", .string(MSHVPreserved.compatible)), ("root_table", .hex(rootTable.rawValue)),
      ("partition_ids", .hex(partitionIDPage.rawValue)), ("nr_partition_ids", .int(UInt64(partitionIDs.count))),
      ("partition_id_values", .array(partitionIDs.map { .int($0) })),
      ("deposited_entries", .int(UInt64(deposited.count))), ("deposited_pages", .int(deposited.pageCount)),
    ])
  }
}

/// The `mshv_prsv_pt` sub-node codec.
public enum MSHVPreserved: PayloadCodec {
  public static let nodeName = "mshv_prsv_pt"
  public static let compatible = "mshv_kho-v1"
  /// Orders above this are raw-PFN keys (M-A), not page orders.
  static let maxPageOrder = 18
  public static var names: [(String, PayloadHost)] { [(nodeName, .subnode)] }

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError)
    -> DecodedPayload
  {
    let g = c.geometry
    let order = g.byteOrder
    let fdt = try _PayloadFDT.read(c)
    try _PayloadFDT.checkCompatible(fdt, compatible, c, &problems)
    var refs = [PayloadReference(.metadata, c.address, path: c.path, what: "MSHV sub-FDT")]
    guard let rt = fdt.root.property("root_table") else {
      throw DecodeError(.missing, "no root_table property (the next kernel panics)", path: c.path, address: c.address)
    }
    guard let rootValue = rt.u64(order) else {
      throw DecodeError(
        .badCount, "root_table is \(rt.length) bytes, not 8 (the next kernel panics)", path: c.path, address: c.address)
    }
    let root = PhysAddr(rootValue)
    let treePath = c.path.appending("root_table")
    let tree = RadixTree.decodeReporting(from: c.memory, root: root, path: treePath)
    try problems.report(contentsOf: tree.allProblems)
    let set = tree.value?.set ?? PreservedSet(geometry: c.memory.geometry)
    let high = set.orders.filter { $0 > maxPageOrder }
    let layout: MSHVPayload.Layout = !high.isEmpty && high.count == set.orders.count ? .rawPFN : .pfnOrder
    if !high.isEmpty && layout == .pfnOrder {
      try problems.report(
        DecodeError(
          .inconsistent, "the deposited-page tree mixes page orders with raw-PFN keys (orders \(high))", path: treePath,
          address: root))
    }
    var deposited = PreservedSet(geometry: g)
    for e in set {
      if layout == .rawPFN {
        // Rebuild the raw key the writer stored: order bit, then the shifted address.
        let bit = 64 - g.pageShift - e.order
        guard bit >= 0, bit < 64 else { continue }
        let pfn = (UInt64(1) << UInt64(bit)) | (e.phys.rawValue >> UInt64(g.pageShift + e.order))
        _ = try? deposited.insert(pfn: pfn, order: 0)
      } else {
        _ = try? deposited.insert(e)
      }
    }
    var s = MSHVPayload(layout: layout, rootTable: root, deposited: deposited)
    if let ids = fdt.root.property("partition_ids") {
      guard let page = ids.u64(order) else {
        throw DecodeError(.badCount, "partition_ids is \(ids.length) bytes, not 8", path: c.path, address: c.address)
      }
      guard let nr = fdt.root.property("nr_partition_ids"), nr.length == 4,
        let n: UInt32 = try? ByteReader(nr.value, order: order).integer(at: 0)
      else {
        throw DecodeError(
          .badCount, "partition_ids without a 4-byte nr_partition_ids", path: c.path, address: c.address)
      }
      s.partitionIDPage = PhysAddr(page)
      var count = Int(n)
      if count > MSHVPayload.maxPartitionIDs || count * 8 > g.pageSize {
        try problems.report(
          DecodeError(
            .outOfRange, "nr_partition_ids \(n) is above \(Swift.min(MSHVPayload.maxPartitionIDs, g.pageSize / 8))",
            path: c.path, address: c.address))
        count = Swift.min(MSHVPayload.maxPartitionIDs, g.pageSize / 8)
      }
      let p = c.path.appending("partition_ids")
      var r = try c.memory.reader(at: s.partitionIDPage, count: count * 8, path: p)
      refs.append(PayloadReference(.metadata, s.partitionIDPage, path: p, what: "MSHV partition id page"))
      for _ in 0..<count { s.partitionIDs.append(try r.u64()) }
    }
    return DecodedPayload(
      compatible: c.compatible, format: "\(compatible) \(layout.rawValue)",
      layoutReason: layout == .rawPFN ? "tree keys decode to orders above \(maxPageOrder)" : nil,
      address: c.address, state: s, references: refs)
  }

  /// Writes the deposited-page tree (M-B keys), the partition id page and the sub-FDT.
  public static func encode(_ state: MSHVPayload, into w: inout PayloadWriter) throws(EncodeError) -> (
    address: PhysAddr, size: UInt64
  ) {
    let order = w.order
    let before = w.allocator.allocated.count
    let root = try RadixTree.encode(state.deposited, into: w.image, allocator: &w.allocator)
    w.record(w.allocator.allocated[before...].map { PreservedEntry($0, order: 0) })
    var props: [DeviceTreeProperty] = [.string("compatible", compatible), .u64("root_table", root.rawValue, order)]
    if !state.partitionIDs.isEmpty {
      var ids = _PayloadWriter(order)
      for id in state.partitionIDs { ids.u64(id) }
      let page = try w.place(ids)
      props.append(.u64("partition_ids", page.rawValue, order))
      var n = _PayloadWriter(order)
      n.u32(UInt32(state.partitionIDs.count))
      props.append(DeviceTreeProperty("nr_partition_ids", n.bytes))
    }
    let dtb = try FDTBuilder.build(DeviceTreeNode("", properties: props))
    var b = _PayloadWriter(order)
    b.raw(dtb)
    return (try w.place(b), UInt64(dtb.count))
  }
}

extension MSHVPayload {
  public func summary(_ g: PageGeometry) -> String {
    "\(deposited.count) deposited entr\(deposited.count == 1 ? "y" : "ies") (\(formatBytes(deposited.byteCount))), \(partitionIDs.count) partition id\(partitionIDs.count == 1 ? "" : "s")"
  }
}

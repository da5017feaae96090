// SPDX-License-Identifier: Apache-2.0
import CFDT
import KHOCore

/// Writes DTBs with libfdt's sequential-write API.
///
/// The output is what the kernel's own KHO code produces for the same tree
/// (it uses the same calls): a v17 blob with the reservation map first, then
/// the structure block, then the strings block, `totalsize` trimmed to the
/// bytes used.
///
///     let root = DeviceTreeNode("", properties: [.string("compatible", "kho-v4")])
///     let dtb = try FDTBuilder.build(root)
public enum FDTBuilder {
  /// Builds a DTB from `root` and optional memory reservations.
  public static func build(
    _ root: DeviceTreeNode, reservations: [FDTReservation] = []
  ) throws(EncodeError) -> [UInt8] {
    var capacity = 256 + estimate(root) + reservations.count * 16
    while true {
      let result = try attempt(root, reservations, capacity: capacity)
      if let result { return result }
      guard capacity < Int(Int32.max) / 2 else {
        throw EncodeError(.outOfRange, "device tree larger than libfdt can address")
      }
      capacity *= 2
    }
  }

  private static func estimate(_ n: DeviceTreeNode) -> Int {
    let own =
      n.name.utf8.count + 12
      + n.properties.reduce(0) { $0 + 16 + $1.value.count + $1.name.utf8.count }
    return own + n.children.reduce(0) { $0 + estimate($1) }
  }

  /// One try with a fixed buffer; `nil` when libfdt ran out of space.
  private static func attempt(
    _ root: DeviceTreeNode, _ reservations: [FDTReservation], capacity: Int
  ) throws(EncodeError) -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: capacity)
    let status: Int32 = buffer.withUnsafeMutableBytes { raw in
      guard let fdt = raw.baseAddress else { return -FDT_ERR_NOSPACE }
      var rc = fdt_create(fdt, Int32(capacity))
      for r in reservations where rc == 0 {
        rc = fdt_add_reservemap_entry(fdt, r.address, r.size)
      }
      if rc == 0 { rc = fdt_finish_reservemap(fdt) }
      if rc == 0 { rc = emit(root, fdt) }
      if rc == 0 { rc = fdt_finish(fdt) }
      return rc
    }
    if status == -FDT_ERR_NOSPACE { return nil }
    guard status == 0 else {
      let text = String(cString: fdt_strerror(status))
      throw EncodeError(.library, "libfdt failed: \(text) (\(status))")
    }
    let total = buffer.withUnsafeBytes { raw in
      raw.baseAddress.map { Int(kho_fdt_totalsize($0)) } ?? 0
    }
    return Array(buffer.prefix(total))
  }

  private static func emit(_ node: DeviceTreeNode, _ fdt: UnsafeMutableRawPointer) -> Int32 {
    var rc = fdt_begin_node(fdt, node.name)
    for p in node.properties where rc == 0 {
      rc = p.value.withUnsafeBytes { v in
        fdt_property(fdt, p.name, v.baseAddress, Int32(v.count))
      }
    }
    for c in node.children where rc == 0 { rc = emit(c, fdt) }
    if rc == 0 { rc = fdt_end_node(fdt) }
    return rc
  }
}

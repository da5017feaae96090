// SPDX-License-Identifier: Apache-2.0
import CFDT
import KHOCore

extension KHORoot {
  /// How the DTB bytes are laid out; the tree is the same either way.
  public enum Layout: Sendable, Hashable {
    /// The bytes a live kernel leaves (kho-v2+, and kho-v1 from ≈6.18): the
    /// root written in one go with `compatible` and `preserved-memory-map`
    /// at init, then each sub-node added with libfdt's read-write API
    /// (`fdt_open_into` into one page, `fdt_add_subnode`, `fdt_setprop`,
    /// `fdt_pack`), which puts a new node first and a new property first.
    /// Replaying the model in reverse reproduces the kernel's bytes,
    /// including its strings-block order.
    case kernel(pageSize: Int)
    /// Everything in one sequential pass in model order (like the v6.16
    /// kernel's finalize-time root; also ``FDTBuilder``'s output).
    case sequential
  }

  /// The root as a device tree, properties in the kernel's order:
  /// `compatible`, `preserved-memory-map`, then the sub-nodes; within a
  /// sub-node kho-v3+ puts `blob-size` before `preserved-data`.
  ///
  /// - Throws: `EncodeError`: `notRepresentable` for a sub-blob size in
  ///   kho-v1/v2 (no property holds it) or a missing one in kho-v3+;
  ///   `outOfRange` for a zero map address in kho-v2+ or a zero sub-blob
  ///   address; `duplicate` for two sub-blobs of one name; `badString` for
  ///   a name that is empty or holds `/` or NUL.
  public func deviceTree(byteOrder: ByteOrder = .little) throws(EncodeError) -> DeviceTreeNode {
    if memoryMap.isZero && version != .v1 {
      throw EncodeError(.outOfRange, "a \(version) root needs a non-zero radix root address")
    }
    var names: Set<String> = []
    var children: [DeviceTreeNode] = []
    for b in subBlobs {
      let path = DecodePath.root.appending(b.name)
      guard !b.name.isEmpty, !b.name.utf8.contains(0), !b.name.contains("/") else {
        throw EncodeError(.badString, "'\(b.name)' is not a valid node name", path: path)
      }
      guard names.insert(b.name).inserted else {
        throw EncodeError(.duplicate, "two sub-blobs are named '\(b.name)'", path: path)
      }
      guard !b.address.isZero else {
        throw EncodeError(.outOfRange, "sub-blob address is 0", path: path)
      }
      var props: [DeviceTreeProperty] = []
      if version.hasBlobSize {
        guard let size = b.size else {
          throw EncodeError(.notRepresentable, "\(version) requires a blob-size for every sub-blob", path: path)
        }
        props.append(.u64("blob-size", size, byteOrder))
      } else if b.size != nil {
        throw EncodeError(
          .notRepresentable, "\(version) has no blob-size property; clear the size to encode", path: path)
      }
      props.append(.u64(version.subBlobProperty, b.address.rawValue, byteOrder))
      children.append(DeviceTreeNode(b.name, properties: props))
    }
    return DeviceTreeNode(
      "",
      properties: [
        .string("compatible", version.compatible),
        .u64("preserved-memory-map", memoryMap.rawValue, byteOrder),
      ],
      children: children)
  }

  /// The root as DTB bytes (`totalsize` long).
  public func encode(
    byteOrder: ByteOrder = .little, layout: Layout = .kernel(pageSize: 4096)
  ) throws(EncodeError) -> [UInt8] {
    let tree = try deviceTree(byteOrder: byteOrder)
    switch layout {
    case .sequential:
      return try FDTBuilder.build(tree)
    case .kernel(let pageSize):
      return try Self.replayKernel(tree, pageSize: pageSize)
    }
  }

  /// Rebuilds `tree` the way the kernel's live root FDT comes to be.
  static func replayKernel(_ tree: DeviceTreeNode, pageSize: Int) throws(EncodeError) -> [UInt8] {
    guard pageSize >= 256, pageSize <= 1 << 16 else {
      throw EncodeError(.outOfRange, "page size \(pageSize) is not a kernel page size")
    }
    var buffer = [UInt8](repeating: 0, count: pageSize)
    let size = Int32(pageSize)
    let rc: Int32 = buffer.withUnsafeMutableBytes { raw -> Int32 in
      guard let fdt = raw.baseAddress else { return -FDT_ERR_INTERNAL }
      func check(_ r: Int32) -> Bool { r >= 0 }
      // kho_init(): the root node with its own properties, sequentially.
      var r = fdt_create(fdt, size)
      if check(r) { r = fdt_finish_reservemap(fdt) }
      if check(r) { r = fdt_begin_node(fdt, "") }
      for p in tree.properties where check(r) {
        r = p.value.withUnsafeBytes { fdt_property(fdt, p.name, $0.baseAddress, Int32($0.count)) }
      }
      if check(r) { r = fdt_end_node(fdt) }
      if check(r) { r = fdt_finish(fdt) }
      // kho_add_subtree(), once per sub-node in registration order (the
      // reverse of the order found, since each new node goes first).
      for child in tree.children.reversed() where check(r) {
        r = fdt_open_into(fdt, fdt, size)
        guard check(r) else { break }
        let node = fdt_add_subnode(fdt, 0, child.name)
        guard check(node) else {
          r = node
          break
        }
        for p in child.properties.reversed() where check(r) {
          r = p.value.withUnsafeBytes { fdt_setprop(fdt, node, p.name, $0.baseAddress, Int32($0.count)) }
        }
        let packed = fdt_pack(fdt)
        if check(r) { r = packed }
      }
      return r
    }
    if rc == -FDT_ERR_NOSPACE {
      throw EncodeError(.outOfRange, "the root FDT does not fit in one \(pageSize)-byte page")
    }
    guard rc >= 0 else {
      throw EncodeError(.library, "libfdt failed: \(String(cString: fdt_strerror(rc))) (\(rc))")
    }
    let total = buffer.withUnsafeBytes { raw in raw.baseAddress.map { Int(kho_fdt_totalsize($0)) } ?? 0 }
    guard total > 0, total <= buffer.count else {
      throw EncodeError(.library, "libfdt produced a totalsize of \(total)")
    }
    return Array(buffer.prefix(total))
  }
}

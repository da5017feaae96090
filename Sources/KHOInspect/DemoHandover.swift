import KHOCore
import KHOFormats

/// A small, representative handover built in memory, for `khodump demo`.
public struct DemoHandover {
  /// The image holding every page of the handover.
  public let image: PhysicalImage
  /// The physical address of the KHO root FDT.
  public let rootAddress: PhysAddr

  /// Builds the demo handover: a kho-v4 root FDT with two sub-blobs.
  public static func build(geometry: PageGeometry = .x86_64) throws -> DemoHandover {
    let image = PhysicalImage(geometry: geometry)
    var alloc = PageAllocator(start: 0x1_0000_0000, pages: 4096, geometry: geometry)
    let rootPage = try alloc.allocate(in: image)
    let mapRoot = try alloc.allocate(in: image)
    let luo = try alloc.allocate(in: image)
    let meta = try alloc.allocate(in: image)
    let order = geometry.byteOrder
    image.storeCString("luo-v5", fieldSize: 8, at: luo)
    image.store(UInt32(1), at: meta)
    image.storeCString("6.19.0-demo", fieldSize: 65, at: meta.advanced(by: 4) ?? meta)
    let root = DeviceTreeNode(
      "",
      properties: [
        .string("compatible", "kho-v4"),
        .u64("preserved-memory-map", mapRoot.rawValue, order),
      ],
      children: [
        DeviceTreeNode(
          "kexec-metadata",
          properties: [.u64("blob-size", 73, order), .u64("preserved-data", meta.rawValue, order)]),
        DeviceTreeNode(
          "LUO",
          properties: [.u64("blob-size", 32, order), .u64("preserved-data", luo.rawValue, order)]),
      ])
    image.write(try FDTBuilder.build(root), at: rootPage)
    return DemoHandover(image: image, rootAddress: rootPage)
  }

  /// Reads the root FDT back out of the image.
  public func readRoot() throws(DecodeError) -> FDT {
    let page = try image.bytes(at: rootAddress, count: image.geometry.pageSize, path: .root)
    return try FDT(parsing: page, allowTrailingBytes: true)
  }
}

import KHOCore
import KHOFormats

/// Arbitrary bytes as a DTB: the reader must either reject them with a
/// DecodeError or produce a tree that rebuilds (through libfdt) into a blob
/// the reader parses to the same tree.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFDT(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Bytes(UnsafeBufferPointer(start: data, count: size))
  guard let fdt = try? FDT(parsing: bytes, allowTrailingBytes: true) else { return 0 }
  // Touch every accessor a consumer would use.
  for node in fdt.nodes {
    _ = node.path
    for p in node.properties { _ = (p.name, p.string, p.cells, p.u64(.little)) }
  }
  let tree = fdt.tree()
  guard let rebuilt = try? FDTBuilder.build(tree, reservations: fdt.reservations) else {
    return 0  // libfdt refuses some names our reader accepts (e.g. '/' inside).
  }
  guard let again = try? FDT(parsing: rebuilt) else {
    fatalError("FDTBuilder output does not parse")
  }
  if again.tree() != tree { fatalError("FDT round trip changed the tree") }
  return 0
}

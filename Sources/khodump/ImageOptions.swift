// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Glibc
import KHOCore
import KHOImage

/// Options every verb that reads a handover image shares.
struct ImageOptions: ParsableArguments {
  @Argument(
    help:
      "An ELF core or kdump-compressed vmcore (raw, flattened or zstd), a toolkit bundle, a DTB, or a copied kho debugfs directory."
  )
  var image: String

  @Option(name: .customLong("fdt-phys"), help: "Physical address of the KHO root FDT (hex, 0x…).")
  var fdtPhys: String?

  @Option(help: "Page size of the kernel that wrote the image, when the image does not say (4096, 16384, 65536).")
  var pageSize: Int?

  @Option(help: "For a debugfs copy with both halves: in or out (default: in, else out).")
  var debugfsSide: String?

  @Option(
    help: ArgumentHelp(
      "Where a compressed or flattened input is expanded (default: $TMPDIR, else /tmp).",
      discussion: "The file has no name from the start and is gone when khodump exits, however it exits."),
    completion: .directory)
  var tmpdir: String?

  /// Parses a hex or decimal address.
  static func parseAddress(_ s: String) throws -> PhysAddr {
    let t = s.lowercased()
    let v = t.hasPrefix("0x") ? UInt64(t.dropFirst(2), radix: 16) : UInt64(t)
    guard let v else { throw ValidationError("not an address: \(s)") }
    return PhysAddr(v)
  }

  func open() throws -> HandoverSource {
    if let tmpdir { setenv("TMPDIR", tmpdir, 1) }
    let phys = try fdtPhys.map(Self.parseAddress)
    var geometry: PageGeometry?
    if let pageSize {
      guard let g = PageGeometry(pageSize: pageSize) else {
        throw ValidationError("--page-size must be 4096, 16384 or 65536")
      }
      geometry = g
    }
    let bar = ProgressBar("finding the KHO root")
    defer { bar.finish() }
    return try HandoverSource.open(
      image, fdtPhys: phys, geometry: geometry, debugfsSide: debugfsSide, progress: { bar.update($0) })
  }
}

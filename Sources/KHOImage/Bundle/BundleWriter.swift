// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Writes compact bundles: zstd-compressed ELF cores of chosen pages plus a
/// ``BundleNote``, readable by every verb without `--fdt-phys`.
public enum BundleWriter {
  /// The bundle bytes (compressed) for `ranges` of `memory`.
  public static func write(
    _ memory: any PhysicalMemory, ranges: [PhysRange], note: BundleNote, compress: Bool = true
  ) throws(DecodeError) -> [UInt8] {
    let elf = try ELFCoreWriter(notes: notes(note, memory)).write(memory, ranges: ranges)
    do { return compress ? try Zstd.compress(elf, level: 9) : elf } catch {
      throw DecodeError(.unsupported, error.message)
    }
  }

  private static func notes(_ note: BundleNote, _ memory: any PhysicalMemory) -> [ELFNote] {
    [note.note, ELFNote(name: "VMCOREINFO", type: 0, descriptor: Array("PAGESIZE=\(memory.geometry.pageSize)\n".utf8))]
  }

  /// Streams the bundle to `sink`: the core is compressed as it is written,
  /// so memory stays a few buffers however many pages go in.
  public static func write(
    _ memory: any PhysicalMemory, ranges: [PhysRange], note: BundleNote, compress: Bool = true,
    to sink: @escaping (UnsafeRawBufferPointer) throws(DecodeError) -> Void
  ) throws(DecodeError) {
    let writer = ELFCoreWriter(notes: notes(note, memory))
    guard compress else { return try writer.write(memory, ranges: ranges, to: sink) }
    // Level 9 keeps small bundles small; past 256 MiB of pages, level 3
    // keeps a pack of a host's preserved data at disk speed.
    let total = ranges.reduce(UInt64(0)) { $0 &+ $1.size }
    let z = try Zstd.Writer(level: total > 256 << 20 ? 3 : 9, sink: sink)
    try writer.write(memory, ranges: ranges) { (p: UnsafeRawBufferPointer) throws(DecodeError) in try z.write(p) }
    try z.finish()
  }
}

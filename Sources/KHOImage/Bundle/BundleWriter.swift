import KHOCore

/// Writes compact bundles: zstd-compressed ELF cores of chosen pages plus a
/// ``BundleNote``, readable by every verb without `--fdt-phys`.
public enum BundleWriter {
  /// The bundle bytes (compressed) for `ranges` of `memory`.
  public static func write(
    _ memory: any PhysicalMemory, ranges: [PhysRange], note: BundleNote, compress: Bool = true
  ) throws -> [UInt8] {
    let vmcoreinfo = ELFNote(
      name: "VMCOREINFO", type: 0, descriptor: Array("PAGESIZE=\(memory.geometry.pageSize)\n".utf8))
    let elf = try ELFCoreWriter(notes: [note.note, vmcoreinfo]).write(memory, ranges: ranges)
    return compress ? try Zstd.compress(elf, level: 9) : elf
  }
}

import KHOCore
import KHOFormats
import KHOImage
import KHOInspect

extension FuzzHarness {
  /// Arbitrary bytes as an ELF core: refused, or every captured segment
  /// reads back at its start and end, and reads past it fail typed.
  @Sendable public static func elfCore(_ data: [UInt8]) -> String? {
    guard let core = try? ELFCore(bytes: Bytes(data)) else { return nil }
    for s in core.segments.prefix(64) {
      let n = Int(Swift.min(s.size, 64))
      guard (try? core.bytes(at: s.start, count: n))?.count == n else {
        return "captured segment \(s) does not read back"
      }
      if let past = s.start.advanced(by: s.size), !core.isCaptured(PhysRange(start: past, size: 1)) {
        if (try? core.bytes(at: past, count: 1)) != nil { return "read past \(s) succeeded" }
      }
    }
    return nil
  }

  /// Arbitrary bytes as a bundle or core (zstd or not, DTB too): opening
  /// and walking never traps, and a clean walk's problems are all typed.
  @Sendable public static func bundle(_ data: [UInt8]) -> String? {
    guard let source = try? HandoverSource.open(bytes: Bytes(data), name: "fuzz", decompressionLimit: FuzzHarness.decompressionLimit) else { return nil }
    _ = HandoverWalker(source: source).walk()
    return nil
  }

  /// Arbitrary bytes as a debugfs copy: the input is split into `fdt`,
  /// `sub_fdts/LUO`, `sub_fdts/memblock` and scratch text at the first
  /// three `\n--\n` separators.
  @Sendable public static func debugfs(_ data: [UInt8]) -> String? {
    var parts: [[UInt8]] = []
    var current: [UInt8] = []
    var i = 0
    let sep: [UInt8] = [0x0a, 0x2d, 0x2d, 0x0a]
    while i < data.count {
      if parts.count < 4, i + 4 <= data.count, Array(data[i..<i + 4]) == sep {
        parts.append(current)
        current = []
        i += 4
      } else {
        current.append(data[i])
        i += 1
      }
    }
    parts.append(current)
    var files: [String: Bytes] = ["fdt": Bytes(parts[0])]
    if parts.count > 1 { files["sub_fdts/LUO"] = Bytes(parts[1]) }
    if parts.count > 2 { files["sub_fdts/memblock"] = Bytes(parts[2]) }
    if parts.count > 3 { files["scratch_phys"] = Bytes(parts[3]) }
    if parts.count > 4 { files["scratch_len"] = Bytes(parts[4]) }
    guard let d = try? DebugfsDirectory(files: files) else { return nil }
    let source = HandoverSource(capturing: d.memory, root: nil, rootBytes: d.rootFDT, scratch: d.scratch, path: "fuzz")
    _ = HandoverWalker(source: source).walk()
    return nil
  }
}

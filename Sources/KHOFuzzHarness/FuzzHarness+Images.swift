// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFuzzFormats
import KHOFormats
import KHOImage
import KHOInspect

extension FuzzHarness {
  /// Arbitrary bytes as a bundle or core (zstd or not, DTB too): opening
  /// and walking never traps, and a clean walk's problems are all typed.
  @Sendable public static func bundle(_ data: [UInt8]) -> String? {
    guard
      let source = try? HandoverSource.open(
        bytes: Bytes(data), name: "fuzz", decompressionLimit: FuzzHarness.decompressionLimit)
    else { return nil }
    _ = HandoverWalker(source: source).walk()
    return nil
  }

  /// Arbitrary bytes as a kdump-compressed or flattened dump: refused
  /// typed, or every captured run reads back at its first and last page,
  /// a read past the dump fails typed, and the root scan (in `open`) and
  /// the walk end.
  @Sendable public static func kdump(_ data: [UInt8]) -> String? {
    guard
      let source = try? HandoverSource.open(
        bytes: Bytes(data), name: "fuzz", decompressionLimit: FuzzHarness.decompressionLimit)
    else { return nil }
    let m = source.memory
    let page = UInt64(m.geometry.pageSize)
    for s in m.segments.prefix(16) {
      // A page that does not decompress is a typed error, not a trap.
      _ = try? m.bytes(at: s.start, count: Int(Swift.min(s.size, page)))
      if s.size >= page { _ = try? m.bytes(at: PhysAddr(s.end - page), count: Int(page)) }
    }
    if let last = m.segments.last, last.end < UInt64.max - page,
      (try? m.bytes(at: PhysAddr(last.end), count: 1)) != nil
    {
      return "read past the last captured run \(last) succeeded"
    }
    // The scan ran in `open` (it found the root); the walk reads from it.
    _ = HandoverWalker(source: source).walk()
    return nil
  }

  /// Arbitrary bytes as a debugfs copy: the input is split into `fdt`,
  /// `sub_fdts/LUO`, `sub_fdts/memblock` and scratch text at the first
  /// three `\n--\n` separators.
  @Sendable public static func debugfs(_ data: [UInt8]) -> String? {
    // Up to five parts split at "\n--\n"; the fifth keeps any later ones.
    var parts: [ArraySlice<UInt8>] = []
    var start = 0
    var i = 0
    while parts.count < 4, i + 4 <= data.count {
      if data[i] == 0x0a, data[i + 1] == 0x2d, data[i + 2] == 0x2d, data[i + 3] == 0x0a {
        parts.append(data[start..<i])
        i += 4
        start = i
      } else {
        i += 1
      }
    }
    parts.append(data[start...])
    let names = ["fdt", "sub_fdts/LUO", "sub_fdts/memblock", "scratch_phys", "scratch_len"]
    var files: [String: Bytes] = [:]
    for (name, part) in zip(names, parts) { files[name] = Bytes(Array(part)) }
    guard let d = try? DebugfsDirectory(files: files) else { return nil }
    let source = HandoverSource(capturing: d.memory, root: nil, rootBytes: d.rootFDT, scratch: d.scratch, path: "fuzz")
    _ = HandoverWalker(source: source).walk()
    return nil
  }
}

extension FuzzHarness {
  /// Arbitrary bytes as an image, then `pack` and `diff`: the bundle of the
  /// pages the walk read opens, and when the image walked without errors,
  /// a diff of the image against its own bundle finds nothing.
  @Sendable public static func packDiff(_ data: [UInt8]) -> String? {
    guard
      let source = try? HandoverSource.open(
        bytes: Bytes(data), name: "fuzz", decompressionLimit: FuzzHarness.decompressionLimit),
      source.rootAddress != nil
    else { return nil }
    let packed: (bundle: [UInt8], result: Packer.Result, report: HandoverReport)
    do { packed = try Packer.pack(source, compress: data.first.map { $0 & 1 == 0 } ?? true) } catch {
      return error is DecodeError ? nil : "pack failed with an untyped error: \(error)"
    }
    guard
      let again = try? HandoverSource.open(
        bytes: Bytes(packed.bundle), name: "bundle", decompressionLimit: FuzzHarness.decompressionLimit)
    else { return "the bundle pack wrote does not open" }
    let diff = HandoverDiff(HandoverWalker(source: source), HandoverWalker(source: again))
    let clean = !packed.report.problems.contains { $0.severity == .error }
    if clean, !diff.isEmpty {
      return "an image and its own bundle differ: \(diff.changes.prefix(3)) \(diff.damaged.prefix(1))"
    }
    return nil
  }
}

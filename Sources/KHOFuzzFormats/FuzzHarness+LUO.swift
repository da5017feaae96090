// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

// Harnesses for the block-v1, LUO, memfd and vmalloc-v1 decoders. Each
// input is one selector byte followed by memory: the bytes are laid out as
// consecutive 4 KiB pages from `base` (the address the golden vectors were
// written at, so seeds made from them link up), the last page zero padded.

extension FuzzHarness {
  /// Where an input's memory starts.
  static let base: PhysAddr = 0x1_0000_0000
  /// The largest memfd file the harness reads back (bounds allocation).
  static let contentsLimit: UInt64 = 1 << 20

  /// The input's memory: one captured segment from `base`, zero padded to
  /// whole pages.
  static func image(_ bytes: ArraySlice<UInt8>, _ g: PageGeometry = .x86_64) -> any PhysicalMemory {
    let pages = Swift.max(1, (bytes.count + g.pageSize - 1) / g.pageSize)
    let storage = _InputPages(count: pages * g.pageSize, copying: bytes)
    let view = Bytes(_owner: storage, base: UnsafeRawPointer(storage.base), count: storage.count)
    return (try? SegmentedMemory(geometry: g, pieces: [(base, view)])) ?? PhysicalImage(geometry: g)
  }

  /// Input: entry-size selector, then pages; the chain starts at `base`.
  /// Strict and lenient walks must agree; a valid chain re-encodes to the
  /// same entries.
  @Sendable public static func blocks(_ data: [UInt8]) -> String? {
    guard let selector = data.first else { return nil }
    let sizes = [1, 16, 32, 64, 80, 1024, 4080]
    guard let layout = BlockLayout(entrySize: sizes[Int(selector) % sizes.count]) else {
      return "no layout"
    }
    let memory = image(data.dropFirst())
    let report = BlockList.decodeReporting(from: memory, head: base, layout: layout, path: "/f")
    let strict: BlockChain
    do {
      strict = try BlockList.decode(from: memory, head: base, layout: layout, path: "/f")
    } catch {
      return report.problems.first == error ? nil : "lenient walk disagrees with strict: \(error)"
    }
    guard report.isClean, report.value?.entries == strict.entries else {
      return "lenient walk found problems in a valid chain"
    }
    let out = PhysicalImage()
    var alloc = PageAllocator(start: base, pages: 1 << 15)
    guard let w = try? BlockList.encode(strict.entries.array, layout: layout, into: out, allocator: &alloc),
      let again = try? BlockList.decode(from: out, head: w.head, layout: layout)
    else { return "a decoded chain does not re-encode" }
    return again.entries == strict.entries ? nil : "block round trip changed the entries"
  }

  /// Input: version/size selector, then pages; the `LUO` blob is at
  /// `base`. Content detection and each version's decoder, strict and
  /// lenient, the cross-checks, and re-encoding of what decoded.
  @Sendable public static func luo(_ data: [UInt8]) -> String? {
    guard let selector = data.first else { return nil }
    let memory = image(data.dropFirst())
    let versions = LUOVersion.allCases
    let version = versions[Int(selector & 0x7f) % versions.count]
    // High bit: pass the version's own blob size (raw forms) instead of nil.
    let size: UInt64? = selector & 0x80 != 0 && version.container == .raw ? UInt64(version.serSize) : nil
    let report = LUO.decodeReporting(from: memory, blob: base, size: size)
    _ = report.value?.crossCheck(isPreserved: { $0.rawValue & 0x1000 == 0 }, memory: memory)
    _ = try? LUO.decode(from: memory, blob: base, size: size, as: version)
    let decoded: LUODecoded
    do {
      decoded = try LUO.decode(from: memory, blob: base, size: size)
    } catch {
      return report.problems.contains(error) ? nil : "lenient read misses the strict error \(error)"
    }
    guard report.isClean, report.value?.state == decoded.state else {
      return "lenient read disagrees with a clean strict decode"
    }
    let out = PhysicalImage()
    var alloc = PageAllocator(start: base, pages: 1 << 16)
    let options = LUOEncodeOptions(rejectDuplicates: false)
    guard let enc = try? LUO.encode(decoded.state, as: decoded.version, into: out, allocator: &alloc, options: options)
    else {
      // More FLBs than one page holds (pgcnt > 1) is readable but not writable.
      return decoded.state.flbs.count > LUOLimits.flbCapacity(.x86_64) ? nil : "decoded LUO state does not re-encode"
    }
    guard let again = try? LUO.decode(from: out, blob: enc.blob, size: enc.size) else {
      return "re-encoded LUO state does not decode"
    }
    return again.state == decoded.state && again.version == decoded.version ? nil : "LUO round trip changed the state"
  }

  /// Input: selector (version = s % 3, `memfd_luo_ser` in page s / 3),
  /// then pages.
  @Sendable public static func memfd(_ data: [UInt8]) -> String? {
    guard let selector = data.first else { return nil }
    let count = MemfdVersion.allCases.count
    let version = MemfdVersion.allCases[Int(selector) % count]
    let at = PhysAddr(base.rawValue + UInt64(Int(selector) / count) * 4096)
    let memory = image(data.dropFirst())
    let outcome = Memfd.decodeReporting(from: memory, at: at, version: version)
    let problems = outcome.problems
    if let lenient = outcome.value, lenient.state.size <= contentsLimit {
      _ = try? Memfd.readContents(
        lenient, from: memory, folioOrder: { $0.rawValue & 0x2000 == 0 ? 0 : 1 }, missingPages: .zeroFill)
    }
    let decoded: MemfdDecoded
    do {
      decoded = try Memfd.decode(from: memory, at: at, version: version)
    } catch {
      return problems.contains(error) ? nil : "lenient memfd read misses the strict error \(error)"
    }
    guard outcome.isClean, outcome.value?.state == decoded.state else {
      return "lenient memfd read disagrees with a clean strict decode"
    }
    let out = PhysicalImage()
    var alloc = PageAllocator(start: base, pages: 1 << 16)
    guard let a = try? Memfd.encode(decoded.state, as: version, into: out, allocator: &alloc),
      let again = try? Memfd.decode(from: out, at: a, version: version)
    else { return "decoded memfd does not round-trip" }
    return again.state == decoded.state ? nil : "memfd round trip changed the state"
  }

  /// Input: a 16-byte `kho_vmalloc` descriptor, then pages.
  @Sendable public static func vmalloc(_ data: [UInt8]) -> String? {
    guard data.count >= VMallocDescriptor.size else { return nil }
    var r = ByteReader(Bytes(data.prefix(VMallocDescriptor.size)), order: .little)
    guard let d = try? VMallocDescriptor(reading: &r) else { return "descriptor unreadable" }
    let memory = image(data.dropFirst(VMallocDescriptor.size))
    let outcome = VMalloc.decodeReporting(d, from: memory, path: "/f")
    let problems = outcome.problems
    let strict: VMallocArea
    do {
      strict = try VMalloc.decode(d, from: memory, path: "/f")
    } catch {
      return problems.first == error ? nil : "lenient vmalloc read disagrees: \(error)"
    }
    guard outcome.isClean, outcome.value == strict else { return "lenient vmalloc read found problems in a valid area" }
    // Sixteen pages reach every path of the reader; more only costs time.
    _ = try? VMalloc.readData(strict, count: Int(Swift.min(strict.byteCount, 1 << 16)), from: memory)
    let out = PhysicalImage()
    var alloc = PageAllocator(start: base, pages: 1 << 16)
    guard
      let again = try? VMalloc.encode(runs: strict.runs, order: d.order, flags: d.flags, into: out, allocator: &alloc),
      let back = try? VMalloc.decode(again, from: out)
    else {
      return strict.runs.isEmpty ? nil : "a decoded vmalloc area does not re-encode"
    }
    return back.runs == strict.runs ? nil : "vmalloc round trip changed the runs"
  }
}

/// Zero-filled heap memory holding a fuzz input's pages (one memcpy, where
/// building `Bytes` from an array copies element by element in debug builds).
final class _InputPages: @unchecked Sendable {
  let base: UnsafeMutableRawPointer
  let count: Int

  init(count: Int, copying bytes: ArraySlice<UInt8>) {
    self.count = count
    base = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
    base.initializeMemory(as: UInt8.self, repeating: 0, count: count)
    bytes.withUnsafeBytes { src in
      if let s = src.baseAddress { base.copyMemory(from: s, byteCount: Swift.min(src.count, count)) }
    }
  }

  deinit { base.deallocate() }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// Finds KHO root FDTs in captured memory, like `fdtdump -s` for KHO.
///
/// One pass over the memory's data (holes of a sparse core are skipped,
/// nothing read stays resident) looks at the start of every page for:
///
/// - an FDT whose root `compatible` starts with `kho-` (a root candidate);
/// - a boot device tree whose `/chosen` has `linux,kho-fdt` (the address
///   the next kernel was given);
/// - an x86 boot parameter page ("HdrS" at 0x202, 0xAA55 at 0x1fe) whose
///   `setup_data` chain holds a `SETUP_KEXEC_KHO` (type 10) entry.
///
/// The last two are what the dump of a kernel booted by a handover says
/// about its root; a candidate they name is the live one when the scan
/// finds several.
public enum RootScanner {
  /// How a root candidate was found.
  public struct Locator: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable {
      /// A page that begins with a KHO root FDT.
      case scan
      /// An x86 `setup_data` entry of type 10 (`struct kho_data`).
      case setupData = "setup-data"
      /// `/chosen/linux,kho-fdt` in a boot device tree.
      case chosen
      /// The toolkit's bundle note.
      case bundleNote = "bundle-note"
      /// `--fdt-phys`.
      case option
    }
    public var kind: Kind
    /// Where the locator itself lives (the setup_data entry, the boot DT).
    public var at: PhysAddr?

    public var description: String {
      at.map { "\(kind.rawValue) at \($0)" } ?? kind.rawValue
    }
  }

  /// A page that begins with a valid FDT whose root `compatible` starts with `kho-`.
  public struct Candidate: Hashable, Sendable, Codable {
    public var address: PhysAddr
    public var compatible: String
    public var totalSize: Int
    /// Every way this candidate was found, the scan first.
    public var foundBy: [Locator] = []

    /// Whether a boot locator (setup_data, /chosen) names this candidate.
    public var isNamedByBootLocator: Bool {
      foundBy.contains { $0.kind == .setupData || $0.kind == .chosen }
    }
  }

  /// The largest FDT size considered (a KHO root is one page).
  public static let maxRootSize = 1 << 20
  /// The most `setup_data` entries followed from one boot parameter page.
  static let maxSetupData = 256
  /// Bytes read at a time by the scan.
  static let chunk = 8 << 20

  /// Every candidate root, by ascending address, each with how it was found.
  public static func scan(_ memory: any PhysicalMemory, progress: ((Double) -> Void)? = nil) -> [Candidate] {
    var ignored: DecodeError?
    return scan(memory, progress: progress, problem: &ignored)
  }

  /// ``scan(_:progress:)``, keeping the first error that left memory
  /// unscanned (a page of a dump that cannot be read) in `problem`.
  public static func scan(
    _ memory: any PhysicalMemory, progress: ((Double) -> Void)? = nil, problem: inout DecodeError?
  ) -> [Candidate] {
    let g = memory.geometry
    let total = Double(Swift.max(memory.capturedBytes, 1))
    var roots: [PhysAddr] = []
    var bootDTs: [PhysAddr] = []
    var bootParams: [PhysAddr] = []
    // Page starts too near the end of a piece to test in it (a piece can
    // start mid-page after a hole of a core with unaligned segments).
    var edges: [PhysAddr] = []
    var done: UInt64 = 0
    var nextReport: UInt64 = 1 << 30
    do throws(DecodeError) {
      try memory.scanData(chunk: chunk) { base, span in
        // The first page start at or after `base`.
        let mask = g.pageMask
        let (up, over) = base.rawValue.addingReportingOverflow(mask)
        if !over {
          var a = up & ~mask
          while a - base.rawValue < UInt64(span.byteCount) {
            let off = Int(a - base.rawValue)
            switch off + 0x210 > span.byteCount ? .edge : pageStart(span, off) {
            case .fdt: roots.append(PhysAddr(a))
            case .bootParams: bootParams.append(PhysAddr(a))
            case .edge: edges.append(PhysAddr(a))
            case nil: break
            }
            let (n, o) = a.addingReportingOverflow(g.pageSize64)
            if o { break }
            a = n
          }
        }
        done += UInt64(span.byteCount)
        if done >= nextReport {
          progress?(Double(done) / total)
          nextReport = done + (1 << 30)
        }
        return true
      }
    } catch {
      problem = error
    }
    for a in edges {
      // The whole test when the page has it, else only the FDT magic.
      guard let head = (try? memory.bytes(at: a, count: 0x210)) ?? (try? memory.bytes(at: a, count: 8)) else {
        continue
      }
      switch head.withRawSpan({ pageStart($0, 0) }) {
      case .fdt: roots.append(a)
      case .bootParams: bootParams.append(a)
      case .edge, nil: break
      }
    }
    // FDT pages: KHO roots, or boot DTs that name one.
    var found: [PhysAddr: Candidate] = [:]
    for a in roots {
      guard let fdt = fdt(memory, a) else { continue }
      if let c = fdt.fdt.root.property("compatible")?.string, c.hasPrefix("kho-") {
        found[a] = Candidate(address: a, compatible: c, totalSize: fdt.size, foundBy: [Locator(kind: .scan, at: nil)])
      } else if fdt.fdt.node(at: "/chosen")?.property("linux,kho-fdt") != nil {
        bootDTs.append(a)
      }
    }
    var named: [(PhysAddr, Locator)] = []
    for a in bootDTs {
      if let target = chosenTarget(memory, a) { named.append((target, Locator(kind: .chosen, at: a))) }
    }
    for a in bootParams {
      for (target, entry) in setupDataTargets(memory, a) {
        named.append((target, Locator(kind: .setupData, at: entry)))
      }
    }
    for (target, locator) in named {
      if found[target] == nil {
        guard var c = candidate(memory, target) else { continue }
        c.foundBy = []
        found[target] = c
      }
      if found[target]?.foundBy.contains(locator) == false { found[target]?.foundBy.append(locator) }
    }
    return found.values.sorted { $0.address < $1.address }
  }

  /// What a page start holds, as far as the scan cares.
  enum PageStart { case fdt, bootParams, edge }

  /// Whether `s` at `off` starts an FDT (big-endian magic `d00dfeed`) or
  /// an x86 boot parameter page ("HdrS" at 0x202, 0xAA55 at 0x1fe).
  static func pageStart(_ s: RawSpan, _ off: Int) -> PageStart? {
    guard off >= 0, off + 4 <= s.byteCount else { return nil }
    if UInt32(bigEndian: s.unsafeLoadUnaligned(fromByteOffset: off, as: UInt32.self)) == 0xd00d_feed { return .fdt }
    guard off + 0x206 <= s.byteCount,
      UInt32(littleEndian: s.unsafeLoadUnaligned(fromByteOffset: off + 0x202, as: UInt32.self)) == 0x5372_6448,
      UInt16(littleEndian: s.unsafeLoadUnaligned(fromByteOffset: off + 0x1fe, as: UInt16.self)) == 0xaa55
    else { return nil }
    return .bootParams
  }

  /// The root a scan settles on: the only candidate, or the only one a
  /// boot locator names; `nil` when there is none or the choice is open.
  public static func choose(_ candidates: [Candidate]) -> Candidate? {
    if candidates.count == 1 { return candidates[0] }
    let named = candidates.filter(\.isNamedByBootLocator)
    return named.count == 1 ? named[0] : nil
  }

  /// The candidate at `address`, if that page holds a KHO root FDT.
  public static func candidate(_ memory: any PhysicalMemory, _ address: PhysAddr) -> Candidate? {
    guard let f = fdt(memory, address), let compatible = f.fdt.root.property("compatible")?.string,
      compatible.hasPrefix("kho-")
    else { return nil }
    return Candidate(
      address: address, compatible: compatible, totalSize: f.size, foundBy: [Locator(kind: .scan, at: nil)])
  }

  /// The FDT at `address`, when one of plausible size parses there.
  static func fdt(_ memory: any PhysicalMemory, _ address: PhysAddr) -> (fdt: FDT, size: Int)? {
    guard let head = try? memory.bytes(at: address, count: FDTHeader.size),
      let h = try? FDTHeader(reading: head), h.totalSize >= UInt32(FDTHeader.size),
      Int(h.totalSize) <= maxRootSize,
      let blob = try? memory.bytes(at: address, count: Int(h.totalSize)),
      let fdt = try? FDT(parsing: blob)
    else { return nil }
    return (fdt, Int(h.totalSize))
  }

  /// The address in `/chosen/linux,kho-fdt` of the boot DT at `address`:
  /// one (address, size) pair in the root's `#address-cells`/`#size-cells`.
  static func chosenTarget(_ memory: any PhysicalMemory, _ address: PhysAddr) -> PhysAddr? {
    guard let f = fdt(memory, address),
      let cells = f.fdt.node(at: "/chosen")?.property("linux,kho-fdt")?.cells
    else { return nil }
    // Linux's defaults for a root without the properties: one cell each.
    let ac = Int(f.fdt.root.property("#address-cells")?.cells?.first ?? 1)
    let sc = Int(f.fdt.root.property("#size-cells")?.cells?.first ?? 1)
    guard (1...2).contains(ac), (0...2).contains(sc), cells.count == ac + sc else { return nil }
    let value = cells.prefix(ac).reduce(UInt64(0)) { $0 << 32 | UInt64($1) }
    return PhysAddr(value)
  }

  /// The `kho_data.fdt_addr` of every type-10 entry in the `setup_data`
  /// chain of the boot parameter page at `page`, with the entry's address.
  /// The chain is followed at most ``maxSetupData`` steps and stops at a
  /// repeated or uncaptured link.
  static func setupDataTargets(_ memory: any PhysicalMemory, _ page: PhysAddr) -> [(PhysAddr, PhysAddr)] {
    var out: [(PhysAddr, PhysAddr)] = []
    guard var next = try? memory.u64(at: PhysAddr(page.rawValue &+ 0x250)) else { return out }
    var seen: Set<UInt64> = []
    while next != 0, out.count < maxSetupData, seen.insert(next).inserted, seen.count <= maxSetupData {
      // struct setup_data { u64 next; u32 type; u32 len; u8 data[]; }
      guard let r = try? memory.reader(at: PhysAddr(next), count: 16, path: .root),
        let link: UInt64 = try? r.integer(at: 0), let type: UInt32 = try? r.integer(at: 8),
        let len: UInt32 = try? r.integer(at: 12)
      else { break }
      if type == 10, len >= 32, let fdtAddr = try? memory.u64(at: PhysAddr(next &+ 16)), fdtAddr != 0 {
        out.append((PhysAddr(fdtAddr), PhysAddr(next)))
      }
      next = link
    }
    return out
  }
}

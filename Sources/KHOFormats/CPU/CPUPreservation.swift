// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// CPU preservation (`cpu_flb_v1` FLB, `cpu_fh_v1` file): CPUs kept parked
/// or running a workload across the kexec.
///
/// Five unversioned layouts share the two strings (payloads.md §11), and
/// content tells them apart only weakly: the decoder keeps the layouts
/// whose fields are plausible and names them; more than one is reported as
/// ambiguous with the fields they agree on. The file form of C2 carries a
/// magic (`CPUF`); C3, C4 and C5 files share a 24-byte prefix
/// `{u32 cpu; u32 state; u64 stack_pa; u64 ptr}`, and C5 adds `hwid` and
/// `next`.
public struct CPUPayload: PayloadState, Hashable {
  /// The layouts the data fits (one when told apart).
  public var layouts: [String]
  /// CPUs named (file: one; FLB: the bitmap's or the list's).
  public var cpus: [UInt32]
  /// The decoded fields, in struct order.
  public var values: [String: UInt64]
  var order: [String]

  init(layouts: [String], cpus: [UInt32], fields: [(String, UInt64)]) {
    self.layouts = layouts
    self.cpus = cpus
    self.values = Dictionary(fields, uniquingKeysWith: { a, _ in a })
    self.order = fields.map(\.0)
  }

  /// Fields holding physical addresses (printed in hex).
  static let pointerKeys: Set<String> = ["ptr", "next", "entries", "cpus_ptr", "magic"]

  public var fields: PayloadValue {
    .object(
      [("layouts", .array(layouts.map { .string($0) })), ("cpus", .array(cpus.map { .int(UInt64($0)) }))]
        + order.map { k in
          (
            k,
            Self.pointerKeys.contains(k) || k.hasSuffix("_pa") || k.hasSuffix("_ptr")
              ? .hex(values[k] ?? 0) : .int(values[k] ?? 0)
          )
        })
  }

  public func summary(_ g: PageGeometry) -> String {
    let cpuText = cpus.count == 1 ? "CPU \(cpus[0])" : "\(cpus.count) CPUs"
    return "\(cpuText) (\(layouts.joined(separator: "/")))"
  }
}

/// The CPU preservation codec.
public enum CPUPreservation: PayloadCodec {
  static var names: [(String, PayloadHost)] { [("cpu_flb_v1", .flb), ("cpu_fh_v1", .file)] }
  /// `CPUF`, C2's file magic.
  public static let fileMagic: UInt32 = 0x4350_5546
  /// The longest C5 CPU list read.
  static let maxCPUs = 8192

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError) -> DecodedPayload {
    let g = c.geometry
    let limit = c.allocationBytes(at: c.address)
    let r = try c.memory.reader(at: c.address, count: Swift.min(limit, 4096), path: c.path)
    var refs = [
      PayloadReference(.metadata, c.address, path: c.path, what: c.host == .flb ? "cpu FLB" : "cpu file state")
    ]
    func u32(_ o: Int) -> UInt32 { (try? r.integer(at: o)) ?? 0 }
    func u64(_ o: Int) -> UInt64 { (try? r.integer(at: o)) ?? 0 }
    func aligned(_ v: UInt64, orZero: Bool = false) -> Bool { (v != 0 || orZero) && v & g.pageMask == 0 }
    var state: CPUPayload
    if c.host == .file {
      if u32(0) == fileMagic {
        state = CPUPayload(
          layouts: ["C2"], cpus: [u32(4)],
          fields: [
            ("magic", UInt64(u32(0))), ("cpu", UInt64(u32(4))), ("session_ser_pa", u64(8)), ("stack_pa", u64(16)),
            ("stack_order", UInt64(u32(24))), ("pcpu_pa", u64(28)),
          ])
      } else {
        let tail = (24..<40).contains { (try? r.integer(at: $0, as: UInt8.self)) != 0 }
        var fields: [(String, UInt64)] = [
          ("cpu", UInt64(u32(0))), ("state", UInt64(u32(4))), ("stack_pa", u64(8)), ("ptr", u64(16)),
        ]
        if tail { fields += [("hwid", u64(24)), ("next", u64(32))] }
        state = CPUPayload(layouts: tail ? ["C5"] : ["C3", "C4", "C5"], cpus: [u32(0)], fields: fields)
        if !aligned(u64(8), orZero: true) {
          try problems.report(
            r.error(.misaligned, "stack_pa 0x\(String(u64(8), radix: 16)) is not page aligned", at: 8))
        }
      }
      if let stack = state.values["stack_pa"], stack != 0, stack & g.pageMask == 0 {
        refs.append(
          PayloadReference(.metadata, PhysAddr(stack), path: c.path.appending("stack_pa"), what: "preserved CPU stack"))
      }
    } else {
      var fits: [String] = []
      // C1: {u32 count; u64 entries; u64 pcpus_pa} packed, entries a block chain of 148-byte entries.
      if let bl = BlockLayout(entrySize: 148, geometry: g), aligned(u64(4)), u32(0) > 0,
        let h = try? c.memory.reader(at: PhysAddr(u64(4)), count: 16, path: c.path),
        let n: UInt64 = try? h.integer(at: 8), n >= 1, n <= UInt64(bl.entriesPerBlock)
      {
        fits.append("C1")
      }
      let words = Int(u32(0))
      if (1...64).contains(words), u32(4) == 0, aligned(u64(8)), aligned(u64(24), orZero: true) {
        if 40 + 8 * words <= limit { fits.append("C3") }
        if aligned(u64(40), orZero: true), aligned(u64(48), orZero: true), 56 + 8 * words <= limit { fits.append("C4") }
      }
      if aligned(u64(0)), aligned(u64(16), orZero: true), aligned(u64(32), orZero: true), u64(40) < 1 << 23 {
        fits.append("C5")
      }
      guard !fits.isEmpty else {
        throw DecodeError(
          .inconsistent, "cpu_flb_v1 data fits none of C1, C3, C4, C5 (C2 depends on NR_CPUS)", path: c.path,
          address: c.address)
      }
      var cpus: [UInt32] = []
      var fields: [(String, UInt64)] = []
      if fits == ["C5"] {
        fields = [
          ("text_runtime_pa", u64(0)), ("text_runtime_size", u64(8)), ("data_runtime_pa", u64(16)),
          ("data_runtime_size", u64(24)), ("cpus_ptr", u64(32)), ("arch_mode", u64(40)),
        ]
        var at = PhysAddr(u64(32))
        var seen = Set<UInt64>()
        while !at.isZero, cpus.count < maxCPUs {
          guard seen.insert(at.rawValue).inserted else {
            try problems.report(
              DecodeError(.cycle, "the CPU list reaches \(at) twice", path: c.path.appending("cpus"), address: at))
            break
          }
          let n = try c.memory.reader(at: at, count: 40, path: c.path.appending("cpus").index(cpus.count))
          refs.append(
            PayloadReference(.metadata, at, path: c.path.appending("cpus").index(cpus.count), what: "cpu_preserved_ser")
          )
          cpus.append(try n.integer(at: 0))
          at = PhysAddr(try n.integer(at: 32))
        }
      } else if fits.allSatisfy({ $0 == "C3" || $0 == "C4" }) {
        fields = [
          ("nr_cpu_words", UInt64(words)), ("text_runtime_pa", u64(8)), ("text_runtime_size", u64(16)),
          ("data_runtime_pa", u64(24)), ("data_runtime_size", u64(32)),
        ]
        let bitmapAt = fits == ["C4"] ? 56 : 40
        if fits == ["C4"] { fields += [("pcpus_runtime_ptr", u64(40)), ("transition_as_ptr", u64(48))] }
        if fits.count == 1 {
          for w in 0..<words {
            let bits = u64(bitmapAt + 8 * w)
            for b in 0..<64 where bits & (1 << UInt64(b)) != 0 { cpus.append(UInt32(w * 64 + b)) }
          }
        }
      } else if fits == ["C1"] {
        fields = [("count", UInt64(u32(0))), ("entries", u64(4)), ("pcpus_pa", u64(12))]
      }
      if fits.count > 1 {
        try problems.report(
          DecodeError(
            .inconsistent, "cpu_flb_v1 data fits \(fits.joined(separator: ", ")); not guessing", path: c.path,
            address: c.address))
      }
      state = CPUPayload(layouts: fits, cpus: cpus, fields: fields)
    }
    return DecodedPayload(
      compatible: c.compatible, format: "\(c.compatible) \(state.layouts.joined(separator: "/"))", address: c.address,
      state: state,
      references: refs)
  }
}

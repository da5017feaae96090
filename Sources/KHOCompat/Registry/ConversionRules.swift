// SPDX-License-Identifier: Apache-2.0
/// A property of a decoded handover that a lossy direction of conversion needs.
///
/// Each case names what must hold for the target version to say everything
/// the source said. A decoded handover model reports where a condition is
/// violated (``ConversionSubject/violations(of:)``); the converter refuses
/// with those exact places.
public enum ConversionCondition: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
  /// Every KHO sub-blob is an FDT (kho-v1/kho-v2 roots have no blob-size).
  case allSubBlobsAreFDT = "all-sub-blobs-are-fdt"
  /// At most 819 LUO sessions (the 16-page session region of luo-v1…v3).
  case sessionsFitRegion = "sessions-fit-region"
  /// At most 128 files per session (the 2-page file array of luo-v1…v4).
  case filesFitArray = "files-fit-array"
  /// No LUO session has files (luo-session-v1 entries have no file set).
  case sessionsHaveNoFiles = "sessions-have-no-files"
  /// No memfd has seals set (memfd-v1 has no seals field).
  case memfdNoSeals = "memfd-no-seals"
  /// No stored value is 0 (kho-xarray-v1 reads 0 as absent).
  case xarrayNoZeroValues = "xarray-no-zero-values"
  /// No marks are set (kho-xarray-v1 has none).
  case xarrayNoMarks = "xarray-no-marks"
  /// No multi-index ranges (kho-xarray-v1 stores single indices).
  case xarrayNoRanges = "xarray-no-ranges"
  /// Every key fits 54 bits (kho-xarray-v1's six 9-bit levels).
  case xarrayKeysFit54Bits = "xarray-keys-fit-54-bits"

  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

  /// What must hold, for a person.
  public var explanation: String {
    switch self {
    case .allSubBlobsAreFDT: "every sub-blob is an FDT (no blob-size property before kho-v3)"
    case .sessionsFitRegion: "at most 819 sessions (16-page session region)"
    case .filesFitArray: "at most 128 files per session (2-page file array)"
    case .sessionsHaveNoFiles: "no session has files (luo-session-v1 entries hold only a name)"
    case .memfdNoSeals: "no memfd has seals set (memfd-v1 cannot store them)"
    case .xarrayNoZeroValues: "no stored value is 0 (v1 reads 0 as absent)"
    case .xarrayNoMarks: "no marks are set (v1 has no marks)"
    case .xarrayNoRanges: "no multi-index ranges (v1 stores single indices)"
    case .xarrayKeysFit54Bits: "every key is below 2^54 (v1's depth)"
    }
  }
}

/// One direct, toolkit-supported conversion between two versions of a component.
public struct ConversionRule: Hashable, Sendable, Codable {
  public var component: ComponentID
  public var from: String
  public var to: String
  /// Empty: lossless for every input.
  public var conditions: [ConversionCondition]
  /// What the conversion rewrites.
  public var note: String

  public init(
    _ component: ComponentID, _ from: String, _ to: String, _ conditions: [ConversionCondition] = [],
    _ note: String
  ) {
    self.component = component
    self.from = from
    self.to = to
    self.conditions = conditions
    self.note = note
  }

  /// Whether the conversion is lossless for every input.
  public var isAlwaysLossless: Bool { conditions.isEmpty }
}

/// A chain of rules from one version to another, with the union of their conditions.
public struct ConversionRoute: Hashable, Sendable, Codable {
  public var component: ComponentID
  public var steps: [ConversionRule]
  /// Union of the steps' conditions, sorted.
  public var conditions: [ConversionCondition] {
    Array(Set(steps.flatMap(\.conditions))).sorted()
  }
  /// `a → b → c`.
  public var path: String {
    guard let first = steps.first else { return "" }
    return ([first.from] + steps.map(\.to)).joined(separator: " → ")
  }
}

extension ConversionRule {
  /// The conversions the issue calls lossless (issue 6 step 4), both directions.
  public static let standard: [ConversionRule] = {
    var r: [ConversionRule] = []
    func both(
      _ c: ComponentID, _ a: String, _ b: String, down: [ConversionCondition] = [], _ note: String
    ) {
      r.append(ConversionRule(c, a, b, [], note))
      r.append(ConversionRule(c, b, a, down, note))
    }
    // Memory map: one PreservedSet model, either encoding.
    both(.memoryMap, "bitmap-chunks-v1", "radix-v1", "re-encode the (phys, order) set")
    // Root: v1 ↔ v2 converts the map and the sub-node property name.
    both(.kho, "kho-v1", "kho-v2", "memory map bitmap ↔ radix; sub-node property fdt ↔ preserved-data")
    both(.kho, "kho-v2", "kho-v3", down: [.allSubBlobsAreFDT], "add or drop blob-size")
    both(.kho, "kho-v3", "kho-v4", "same root layout; the string changes")
    both(.kho, "kho-v4", "kho-v4;radix-v1;vmalloc-v1", "same layout; composite string")
    both(.kho, "kho-v4", "kho-v4;radix-v1", "same layout; the RFC's intermediate composite string")
    // LUO.
    both(.luo, "luo-v1", "luo-v2", "session/FLB FDT nodes ↔ luo-abi-header + luo_ser")
    both(.luo, "luo-v2", "luo-v3", "FDT wrapper ↔ raw luo_ser with its compatible field")
    both(.luo, "luo-v3", "luo-v4", down: [.sessionsFitRegion], "session region ↔ session block chain")
    both(.luo, "luo-v4", "luo-v5", down: [.filesFitArray], "file arrays ↔ file block chains")
    both(.luo, "luo-v5", "luo-v5;block-v1", "compatible field 8 ↔ 16 bytes (luo_ser 32 ↔ 40)")
    both(.luo, "luo-v4", "luo-v3-kho-block-v1", "same lists; compatible field 8 ↔ 24 bytes (luo_ser 32 ↔ 48)")
    both(.luo, "luo-v5", "luo-v4-kho-block-v1", "same lists; compatible field 8 ↔ 24 bytes (luo_ser 32 ↔ 48)")
    both(.luo, "luo-v5", "luo-features", "compatible field ↔ 128-byte feature header (luo_ser 32 ↔ 152); same lists")
    both(.luoSession, "luo-session-v1", "luo-session-v2", down: [.sessionsHaveNoFiles], "64 ↔ 80-byte entries")
    // memfd.
    both(.memfd, "memfd-v1", "memfd-v2", down: [.memfdNoSeals], "add or drop seals/flags (v2 flags are always 0)")
    both(.memfd, "memfd-v2", "memfd-v2;vmalloc-v1", "same layout; composite string")
    both(.memfd, "memfd-v2", "memfd", "the feature-flag handler: a 128-byte feature header before the same fields")
    // KHO xarray.
    both(
      .khoXArray, "kho-xarray-v1", "kho-xarray-v2",
      down: [.xarrayKeysFit54Bits, .xarrayNoMarks, .xarrayNoRanges, .xarrayNoZeroValues],
      "re-encode the sparse array")
    return r
  }()

  /// The shortest route from `from` to `to` over `rules` (nil when none; empty when equal).
  ///
  /// Ties between equally short routes go to the one with fewer conditions,
  /// then to the bytewise-smallest path, so the answer is deterministic.
  public static func route(
    _ component: ComponentID, from: String, to: String, rules: [ConversionRule] = standard
  ) -> ConversionRoute? {
    if from == to { return ConversionRoute(component: component, steps: []) }
    let edges = rules.filter { $0.component == component }
    var frontier: [[ConversionRule]] = edges.filter { $0.from == from }.map { [$0] }
    var seen: Set<String> = [from]
    for _ in 0..<edges.count {
      let done = frontier.filter { $0.last?.to == to }
      if !done.isEmpty {
        let best = done.min { a, b in
          let ca = Set(a.flatMap(\.conditions)).count, cb = Set(b.flatMap(\.conditions)).count
          if ca != cb { return ca < cb }
          return a.map(\.to).joined(separator: ",") < b.map(\.to).joined(separator: ",")
        }
        return best.map { ConversionRoute(component: component, steps: $0) }
      }
      for p in frontier { if let t = p.last?.to { seen.insert(t) } }
      var next: [[ConversionRule]] = []
      for p in frontier {
        guard let last = p.last else { continue }
        for e in edges where e.from == last.to && !seen.contains(e.to) { next.append(p + [e]) }
      }
      if next.isEmpty { return nil }
      frontier = next
    }
    return nil
  }
}

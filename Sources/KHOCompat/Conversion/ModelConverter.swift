// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// A ``ComponentTranscoder`` over ``HandoverModel``: rewrites one component's version in the model.
///
/// The model is version-independent, so a step changes the version each
/// structure will be written in (and what follows from it: a memfd file's
/// handler string, luo-v1's sub-nodes) and keeps every piece of content;
/// the converter then checks the route's conditions on the result and
/// ``HandoverModel/encode(into:metadata:map:)`` lays the bytes out afresh.
public struct HandoverTranscoder: ComponentTranscoder, Sendable {
  public let rule: ConversionRule

  /// The transcoder for `rule`, or nil when the model cannot implement it
  /// (the memory map follows the root).
  public init?(_ rule: ConversionRule) {
    switch rule.component {
    case .kho: guard KHORootVersion(rawValue: rule.to) != nil else { return nil }
    case .luo: guard LUOVersion(rawValue: rule.to) != nil else { return nil }
    case .luoSession: guard LUOSessionForm(rawValue: rule.to) != nil else { return nil }
    case .memfd: guard MemfdVersion(rawValue: rule.to) != nil else { return nil }
    case .khoXArray: guard HandoverModel.XArrayVersion(rawValue: rule.to) != nil else { return nil }
    default: return nil
    }
    self.rule = rule
  }

  public func transcode(_ subject: HandoverModel) throws(ConversionError) -> HandoverModel {
    var m = subject
    switch rule.component {
    case .kho:
      guard let v = KHORootVersion(rawValue: rule.to) else { throw bad() }
      m.rootVersion = v
    case .luo:
      guard let v = LUOVersion(rawValue: rule.to), var l = m.luo else { throw bad() }
      l.version = v
      l.flbNode = true
      l.sessionCompatible = v == .v1 ? LUOSessionForm.v2.rawValue : nil
      m.luo = l
    case .luoSession:
      guard var l = m.luo else { throw bad() }
      l.sessionCompatible = rule.to
      m.luo = l
    case .memfd:
      guard let v = MemfdVersion(rawValue: rule.to), var l = m.luo else { throw bad() }
      for (ref, var model) in l.memfds {
        model.version = v
        l.memfds[ref] = model
        l.state.sessions[ref.session].files[ref.file].compatible = v.rawValue
      }
      m.luo = l
    case .khoXArray:
      guard let v = HandoverModel.XArrayVersion(rawValue: rule.to) else { throw bad() }
      for i in m.subBlobs.indices {
        if case .xarray(var x) = m.subBlobs[i].content {
          x.version = v
          m.subBlobs[i].content = .xarray(x)
        }
      }
    default:
      throw bad()
    }
    return m
  }

  func bad() -> ConversionError {
    ConversionError(
      .encodeFailed, "\(rule.from) → \(rule.to) does not apply to this handover", component: rule.component)
  }

  /// One transcoder for every standard rule the model implements.
  public static let standard: [HandoverTranscoder] = ConversionRule.standard.compactMap { HandoverTranscoder($0) }
}

/// Converts a ``HandoverModel`` to target versions: ``Converter`` with the
/// model's transcoders, plus what only a whole handover knows.
///
///     let targets = try ModelConverter.targets(["kho-v3", "luo-v4"])
///     let (plan, converted) = try ModelConverter().run(model, targets: targets)
///
/// The memory map is not converted on its own: its format follows the root
/// (kho-v1 bitmap chunks, kho-v2 and later radix), so a `radix-v1` target
/// is accepted when the resulting root implies it and refused otherwise.
/// A handover whose memfds (or xarrays) are in several versions is not
/// converted for that component.
public struct ModelConverter {
  public var converter: Converter<HandoverModel>

  public init(registry: VersionRegistry = .standard, rules: [ConversionRule] = ConversionRule.standard) {
    converter = Converter(
      registry: registry, rules: rules, transcoders: rules.compactMap { HandoverTranscoder($0) })
  }

  /// Resolves version names (`kho-v2`, `luo-v5;block-v1`, `radix-v1`) into one target per component.
  ///
  /// - Throws: ``ConversionError`` `.badTarget` for an unknown name, one the
  ///   toolkit cannot decode, or two versions of one component.
  public static func targets(_ names: [String], registry: VersionRegistry = .standard) throws(ConversionError)
    -> [ComponentID: String]
  {
    var out: [ComponentID: String] = [:]
    for raw in names {
      let name = raw.trimmingWhitespace
      guard !name.isEmpty else { continue }
      guard let v = registry.version(named: name) ?? registry.version(forString: name) else {
        throw ConversionError(.badTarget, "'\(name)' is not a version the registry knows")
      }
      guard v.scope == .decoded else {
        throw ConversionError(
          .badTarget, "'\(name)' is recognised but its format is opaque to the toolkit", component: v.component)
      }
      if let other = out[v.component], other != v.name {
        throw ConversionError(
          .badTarget, "two versions of \(v.component): \(other) and \(v.name)", component: v.component)
      }
      out[v.component] = v.name
    }
    return out
  }

  /// Plans and converts `model` (see ``Converter/run(_:targets:)``).
  public func run(_ model: HandoverModel, targets: [ComponentID: String]) throws(ConversionError)
    -> (plan: ConversionPlan, result: HandoverModel)
  {
    var t = targets
    if let map = t[.memoryMap] {
      let rootName = t[.kho] ?? model.rootVersion.rawValue
      if let root = KHORootVersion(rawValue: rootName), root.memoryMapFormat.rawValue == map {
        t[.memoryMap] = nil
      } else {
        let need = map == MemoryMapFormat.bitmapChunksV1.rawValue ? "a kho-v1 root" : "a kho-v2 or later root"
        throw ConversionError(
          .badTarget,
          "the memory map's format follows the root: \(map) needs \(need), and the root would be \(rootName); convert the root as well",
          component: .memoryMap)
      }
    }
    if t[.memfd] != nil, model.memfdVersions.count > 1 {
      throw ConversionError(
        .badTarget,
        "the memfd files are in several versions (\(model.memfdVersions.map(\.rawValue).joined(separator: ", ")))",
        component: .memfd)
    }
    if t[.khoXArray] != nil, model.xarrayVersions.count > 1 {
      throw ConversionError(
        .badTarget,
        "the xarrays are in several versions (\(model.xarrayVersions.map(\.rawValue).joined(separator: ", ")))",
        component: .khoXArray)
    }
    // The luo-session node exists only in luo-v1: when this run makes LUO
    // luo-v1, the node is converted in a second pass over the result.
    if let session = t[.luoSession], t[.luo] == LUOVersion.v1.rawValue, model.luo?.version != .v1 {
      t[.luoSession] = nil
      let (first, m) = try converter.run(model, targets: t)
      let (second, result) = try converter.run(m, targets: [.luoSession: session])
      return (ConversionPlan(steps: first.steps + second.steps, before: first.before, after: second.after), result)
    }
    return try converter.run(model, targets: t)
  }
}

extension String {
  var trimmingWhitespace: String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" || f == "\n" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\n" { s = s.dropLast() }
    return String(s)
  }
}

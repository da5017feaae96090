// SPDX-License-Identifier: Apache-2.0
/// The version-compat matrix: per component, every (writer, reader) version pair;
/// and per pair of kernel releases, whether a handover survives.
///
/// Generated into `Specs/compat-matrix.md` and `.json`; a test regenerates
/// both and fails when the committed files are stale.
public struct CompatMatrix: Hashable, Sendable, Codable {
  public static let schemaID = "kho-compat-matrix/1"

  /// The outcome of handing a component from one version to another.
  public enum Outcome: String, Hashable, Sendable, Codable {
    /// The reader reads it as written, with equal content.
    case native
    /// Readable after the toolkit converts it (possibly only when conditions hold).
    case converted
    /// Not readable, and no lossless conversion exists.
    case refused
  }

  /// How a cell's outcome was established.
  public enum Basis: String, Hashable, Sendable, Codable {
    /// From the registry: exact-match semantics (§9.1) and the conversion rules.
    case rule
    /// By encoding a canonical corpus with the writer's codec and decoding with the reader's.
    case probe
  }

  /// One (writer, reader) pair of one component.
  public struct Cell: Hashable, Sendable, Codable {
    public var writer: String
    public var reader: String
    public var outcome: Outcome
    /// Conditions for a conversion to be lossless (empty: always).
    public var conditions: [ConversionCondition]
    /// The conversion route, `a → b → c`.
    public var route: String?
    /// What a kernel reading `reader` does with data written as `writer`.
    public var kernel: String
    public var basis: Basis
    /// Set when a probe disagreed with the rule (the probe's outcome is recorded).
    public var disagreement: String?
    /// What the probe did and saw: the reader's refusal, the conversion, each variant.
    public var evidence: [String] = []
  }

  /// One component's square.
  public struct ComponentTable: Hashable, Sendable, Codable {
    public var component: ComponentID
    /// Versions, oldest first.
    public var versions: [String]
    /// Row-major: writer, then reader.
    public var cells: [Cell]
    /// The probe's corpus, when a codec probe proved cells.
    public var probe: String?
    /// Why (some) cells follow the rules, when no probe covers them.
    public var ruleBasis: String?
  }

  /// Whether a handover from one release survives into another.
  public enum ReleaseOutcome: String, Hashable, Sendable, Codable, Comparable {
    /// Every component is read.
    case works
    /// The reader ignores some component (its state is lost without an error).
    case partial
    /// A version the reference does not pin down decides it.
    case unknown
    /// The reader refuses data it needs (KHO disabled, or a panic).
    case fails

    static let rank: [ReleaseOutcome: Int] = [.works: 0, .partial: 1, .unknown: 2, .fails: 3]
    public static func < (a: Self, b: Self) -> Bool { (rank[a] ?? 0) < (rank[b] ?? 0) }
  }

  /// One (writer release, reader release) pair.
  public struct ReleaseCell: Hashable, Sendable, Codable {
    public var writer: String
    public var reader: String
    public var outcome: ReleaseOutcome
    /// Whether a release mapping used is inferred (kho-abi.md §11).
    public var inferred: Bool
    /// One line per component that is not simply read.
    public var details: [String]
  }

  public var schema: String = Self.schemaID
  public var components: [ComponentTable]
  /// Release names, oldest first.
  public var releases: [String]
  public var releaseCells: [ReleaseCell]

  private enum CodingKeys: String, CodingKey {
    case schema, components, releases, releaseCells = "release_cells"
  }

  public init(components: [ComponentTable], releases: [String], releaseCells: [ReleaseCell]) {
    self.components = components
    self.releases = releases
    self.releaseCells = releaseCells
  }

  /// The cell of `component` for (`writer`, `reader`).
  public func cell(_ component: ComponentID, writer: String, reader: String) -> Cell? {
    components.first { $0.component == component }?.cells.first { $0.writer == writer && $0.reader == reader }
  }

  /// The release cell for (`writer`, `reader`).
  public func releaseCell(writer: String, reader: String) -> ReleaseCell? {
    releaseCells.first { $0.writer == writer && $0.reader == reader }
  }

  /// The matrix as pretty JSON with sorted keys.
  public func jsonBytes() -> [UInt8] { CompatJSON.encode(self) }
}

import KHOCore

/// One encoding of a canonical corpus, as a probe wrote it.
public struct ProbeSample {
  /// The version it is written in.
  public var version: String
  /// The memory it was written into (nil for a standalone blob).
  public var memory: (any PhysicalMemory)?
  /// Where the written object starts in `memory`.
  public var root: PhysAddr?
  /// The bytes, for formats that are standalone blobs (a root FDT, a raw sub-blob).
  public var blob: Bytes?

  public init(version: String, memory: (any PhysicalMemory)? = nil, root: PhysAddr? = nil, blob: Bytes? = nil) {
    self.version = version
    self.memory = memory
    self.root = root
    self.blob = blob
  }
}

/// What a reader got out of a sample, in a version-independent form that compares by value.
public struct ProbeContent: Hashable, Sendable {
  /// One line per fact (`session vm-00 files=3`, `0x1000 order 0`), sorted by the probe.
  public var lines: [String]
  public init(lines: [String]) { self.lines = lines }
}

/// Proves the compat matrix's cells for one component by running its codecs.
///
/// When a format's codec merges, its owner implements this for the
/// component: encode a canonical corpus (one every version can express)
/// with the writer version, decode it with the reader version's strict
/// reader (which, like the kernel, refuses any other version), and
/// optionally convert it. ``CompatMatrix/generate(registry:rules:probes:)``
/// then records each cell's outcome as proven (`basis: probe`) instead of
/// derived from the registry's rules, and reports any disagreement.
public protocol ComponentCodecProbe {
  /// The component the probe covers.
  var component: ComponentID { get }
  /// The versions (registry names) the probe can encode and decode.
  var versions: [String] { get }
  /// The canonical corpus in the model, as the reader should report it.
  func canonicalContent() throws -> ProbeContent
  /// Encodes the canonical corpus as `version`.
  func encodeCanonical(_ version: String) throws -> ProbeSample
  /// Decodes `sample` with the strict reader for `version`; throws when that reader refuses it.
  func decode(_ sample: ProbeSample, as version: String) throws -> ProbeContent
  /// Converts `sample` to `version`; nil when the probe has no converter for the pair (yet).
  func convert(_ sample: ProbeSample, to version: String) throws -> ProbeSample?
}

extension ComponentCodecProbe {
  public func convert(_ sample: ProbeSample, to version: String) throws -> ProbeSample? { nil }
}

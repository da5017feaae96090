// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// One encoding of a corpus, as a probe wrote it.
public struct ProbeSample {
  /// The version it is written in.
  public var version: String
  /// The memory it was written into (nil for a standalone blob).
  public var memory: (any PhysicalMemory)?
  /// Where the written object starts in `memory` (a KHO root FDT, a map's first node).
  public var root: PhysAddr?
  /// The bytes, for formats that are standalone blobs.
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

/// A corpus that uses something only some versions can say: a memfd with
/// seals, an xarray with a stored 0, 820 LUO sessions.
///
/// The matrix runs it through every (writer, reader) cell whose writer can
/// encode it: where the rules attach one of ``violates`` to the route the
/// converter must refuse it (naming the object), elsewhere it must convert
/// with equal content. Either way the conditions of the matrix are proven
/// by codecs rather than asserted.
public struct ProbeVariant {
  /// A short name (`sealed memfd`).
  public var name: String
  /// The conditions the corpus violates.
  public var violates: [ConversionCondition]
  /// The versions that can encode it.
  public var writers: [String]
  /// What a reader should report.
  public var content: ProbeContent
  /// Encodes it as a version.
  public var encode: (String) throws -> ProbeSample

  public init(
    name: String, violates: [ConversionCondition], writers: [String], content: ProbeContent,
    encode: @escaping (String) throws -> ProbeSample
  ) {
    self.name = name
    self.violates = violates
    self.writers = writers
    self.content = content
    self.encode = encode
  }
}

/// Proves the compat matrix's cells for one component by running its codecs.
///
/// For each (writer, reader) pair: encode a canonical corpus (one every
/// version can express, yet exercising what tells the versions apart) with
/// the writer version; decode it with the reader version's strict reader,
/// which like the kernel refuses any other version (kho-abi.md §9.1); then
/// convert it with the toolkit's converter and decode the result as the
/// reader. ``CompatMatrix/generate(registry:rules:probes:)`` records each
/// cell as proven (`basis: probe`) with the evidence, and reports any
/// disagreement with the registry's rules. ``variants()`` prove the
/// conditions of conditional conversions.
public protocol ComponentCodecProbe {
  /// The component the probe covers.
  var component: ComponentID { get }
  /// The versions (registry names) the probe can encode and decode.
  var versions: [String] { get }
  /// What the canonical corpus holds, for the matrix's notes.
  var corpusDescription: String { get }
  /// The canonical corpus in the model, as the reader should report it.
  func canonicalContent() throws -> ProbeContent
  /// Encodes the canonical corpus as `version`.
  func encodeCanonical(_ version: String) throws -> ProbeSample
  /// Decodes `sample` with the strict reader for `version`; throws when that reader refuses it.
  func decode(_ sample: ProbeSample, as version: String) throws -> ProbeContent
  /// Converts `sample` to `version` with the toolkit's converter; nil when there is none for the pair.
  func convert(_ sample: ProbeSample, to version: String) throws -> ProbeSample?
  /// Corpora beyond the canonical one (default: none).
  func variants() throws -> [ProbeVariant]
}

extension ComponentCodecProbe {
  public func convert(_ sample: ProbeSample, to version: String) throws -> ProbeSample? { nil }
  public func variants() throws -> [ProbeVariant] { [] }
  public var corpusDescription: String { "a canonical corpus" }
}

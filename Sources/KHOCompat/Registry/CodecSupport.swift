/// Whether the toolkit can read or write a version today.
public enum CodecState: String, Hashable, Sendable, Codable, CaseIterable {
  /// A codec is merged and tested.
  case available
  /// A codec is being written; not usable yet.
  case planned
  /// Not supported and not planned (opaque strings).
  case none
}

/// The toolkit's read and write support for one version.
public struct CodecSupport: Hashable, Sendable, Codable {
  public var read: CodecState
  public var write: CodecState
  /// Where the codec lives (or will live).
  public var codec: String?

  public init(read: CodecState, write: CodecState, codec: String?) {
    self.read = read
    self.write = write
    self.codec = codec
  }

  /// Neither read nor written.
  public static let opaque = CodecSupport(read: .none, write: .none, codec: nil)
}

extension CodecSupport {
  /// THE table of what the toolkit reads and writes, by registry name.
  ///
  /// This is the one place to update when a codec lands: flip `.planned`
  /// to `.available`. Names not listed here are opaque. A test checks that
  /// every decoded registry version has an entry and every entry names a
  /// registry version.
  public static let table: [String: CodecSupport] = {
    let root = "KHOFormats/Root"
    let mm = "KHOFormats/MemoryMap"
    let luo = "KHOFormats/LUO"
    let planned = { (codec: String) in CodecSupport(read: .planned, write: .planned, codec: codec) }
    return [
      "kho-v1": planned(root),
      "kho-v2": planned(root),
      "kho-v3": planned(root),
      "kho-v4": planned(root),
      "kho-v4;radix-v1;vmalloc-v1": planned(root),
      "kho-bitmap-v1": planned(mm),
      "radix-v1": planned(mm),
      "block-v1": planned("KHOFormats/Blocks"),
      "vmalloc-v1": planned("KHOFormats/VMalloc"),
      "luo-v1": planned(luo),
      "luo-v2": planned(luo),
      "luo-v3": planned(luo),
      "luo-v4": planned(luo),
      "luo-v5": planned(luo),
      "luo-v5;block-v1": planned(luo),
      "luo-session-v1": planned(luo),
      "luo-session-v2": planned(luo),
      "luo-flb-v1": planned(luo),
      "memfd-v1": planned("KHOFormats/Memfd"),
      "memfd-v2": planned("KHOFormats/Memfd"),
      "memfd-v2;vmalloc-v1": planned("KHOFormats/Memfd"),
      "kexec-metadata-v1": planned("KHOFormats/Metadata"),
      "memblock-v1": planned("KHOFormats/Metadata"),
      "reserve-mem-v1": planned("KHOFormats/Metadata"),
      "kho-xarray-v1": planned("KHOFormats/XArrayFormat"),
      "kho-xarray-v2": planned("KHOFormats/XArrayFormat"),
    ]
  }()

  /// The support for `name` (opaque when the table does not list it).
  public static func of(_ name: String) -> CodecSupport { table[name] ?? .opaque }
}

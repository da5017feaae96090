import KHOCore

/// The bytes of an input file, memory-mapped, decompressed when zstd.
public enum InputFile {
  /// The most a compressed input may expand to before it is refused.
  public static let defaultDecompressionLimit = 1 << 34

  /// Reads `path`; a zstd-compressed file is decompressed (up to `limit`).
  public static func load(_ path: String, limit: Int = defaultDecompressionLimit) throws(DecodeError) -> Bytes {
    let mapped = try _MappedFile(path: path).bytes
    if Zstd.isCompressed(mapped) {
      return Bytes(try Zstd.decompress(mapped, limit: limit))
    }
    return mapped
  }
}

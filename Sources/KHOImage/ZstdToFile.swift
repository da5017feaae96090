// SPDX-License-Identifier: Apache-2.0
import CZstd
import KHOCore

extension Zstd {
  /// Decompresses `input` in one streaming pass into an unlinked temporary
  /// file and maps it: resident memory stays one buffer however large the
  /// output, runs of zeros are skipped (the file stays sparse), and the file
  /// disappears when the mapping goes or the process ends.
  ///
  /// `check` sees the first bytes (up to 1 MiB, or all if shorter) as soon
  /// as they arrive and returns the size the content claims (`nil`: no
  /// claim); output past that claim, or past `limit`, is refused. It throws
  /// to refuse content that is not what the caller reads.
  ///
  /// The file goes in `$TMPDIR` (default `/tmp`).
  public static func decompressToFile(
    _ input: Bytes, limit: Int, name: String, check: ([UInt8]) throws(DecodeError) -> Int?
  ) throws(DecodeError) -> Bytes {
    try decompressToMappedFile(input, limit: limit, name: name, check: check).bytes
  }

  /// ``decompressToFile(_:limit:name:check:)``, keeping the file for scans.
  /// When `input` is the whole of `source`, what was read is dropped from
  /// memory behind the decoder (a compressed core can be larger than RAM).
  static func decompressToMappedFile(
    _ input: Bytes, limit: Int, name: String, source: _MappedFile? = nil,
    check: ([UInt8]) throws(DecodeError) -> Int?
  ) throws(DecodeError) -> _MappedFile {
    let file = try _SparseTempFile()
    guard let dctx = ZSTD_createDCtx() else {
      throw DecodeError(.unsupported, "libzstd could not allocate a context")
    }
    defer { ZSTD_freeDCtx(dctx) }
    let chunk = ZSTD_DStreamOutSize()
    // Not zero filled: only the bytes zstd reports as produced are read.
    var scratch = [UInt8](unsafeUninitializedCapacity: chunk) { _, n in n = chunk }
    let headLimit = 1 << 20
    var head: [UInt8] = []
    var claim: Int?
    var checked = false
    var total = 0
    var lastRet = 0
    var failure: DecodeError?
    var released = 0
    func runCheck() {
      guard !checked else { return }
      checked = true
      do { claim = try check(head) } catch { failure = error }
    }
    input.withUnsafeBytes { raw in
      var inBuf = ZSTD_inBuffer(src: raw.baseAddress, size: raw.count, pos: 0)
      while failure == nil {
        let consumedBefore = inBuf.pos
        let produced: Int = scratch.withUnsafeMutableBytes { out in
          var outBuf = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
          let ret = ZSTD_decompressStream(dctx, &outBuf, &inBuf)
          if ZSTD_isError(ret) != 0 {
            failure = DecodeError(.badMagic, "zstd: \(String(cString: ZSTD_getErrorName(ret)))", offset: inBuf.pos)
            return -1
          }
          lastRet = ret
          return outBuf.pos
        }
        if produced < 0 { return }
        if head.count < headLimit { head += scratch[0..<Swift.min(produced, headLimit - head.count)] }
        if head.count >= headLimit || (head.count >= 4096 && !checked) { runCheck() }
        if failure != nil { return }
        let bound = Swift.min(limit, claim ?? limit)
        if total + produced > bound {
          failure = DecodeError(
            .limitExceeded,
            claim != nil && bound == claim
              ? "\(name) decompresses past the \(bound) bytes its own headers describe (trailing data)"
              : "\(name) decompresses to more than \(bound) bytes",
            path: "/zstd")
          return
        }
        // Zero runs are skipped, not written: the file stays sparse.
        failure = scratch.withUnsafeBytes { b -> DecodeError? in
          do throws(DecodeError) { try file.write(UnsafeRawBufferPointer(rebasing: b[0..<produced]), at: total) } catch
          { return error }
          return nil
        }
        if failure != nil { return }
        total += produced
        if let source, inBuf.pos - released >= 64 << 20 {
          source.release(upTo: inBuf.pos)
          released = inBuf.pos
        }
        if inBuf.pos == inBuf.size && (lastRet == 0 || produced < chunk) { return }
        if produced == 0 && inBuf.pos == consumedBefore { return }
      }
    }
    if failure == nil { runCheck() }
    if let failure { throw failure }
    guard lastRet == 0 else {
      throw DecodeError(.truncated, "zstd stream ends in the middle of a frame", offset: input.count)
    }
    return try file.finish(size: total, name: name)
  }
}

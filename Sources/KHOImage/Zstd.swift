// SPDX-License-Identifier: Apache-2.0
import CZstd
import KHOCore

/// zstd compression for bundles and compressed dumps (libzstd).
public enum Zstd {
  /// The zstd frame magic as it appears in the first four bytes of a file.
  public static let magicBytes: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd]

  /// Whether `bytes` begins with a zstd frame.
  public static func isCompressed(_ bytes: Bytes) -> Bool {
    bytes.count >= 4 && (0..<4).allSatisfy { bytes.byte(at: $0) == magicBytes[$0] }
  }

  /// Decompresses every frame of `input`, refusing output over `limit` bytes.
  public static func decompress(_ input: Bytes, limit: Int) throws(DecodeError) -> [UInt8] {
    guard let dctx = ZSTD_createDCtx() else {
      throw DecodeError(.unsupported, "libzstd could not allocate a context")
    }
    defer { ZSTD_freeDCtx(dctx) }
    var output: [UInt8] = []
    let chunk = ZSTD_DStreamOutSize()
    // Not zero filled: only the bytes zstd reports as produced are read.
    var scratch = [UInt8](unsafeUninitializedCapacity: chunk) { _, n in n = chunk }
    var failure: DecodeError?
    var lastRet = 0
    input.withUnsafeBytes { raw in
      var inBuf = ZSTD_inBuffer(src: raw.baseAddress, size: raw.count, pos: 0)
      // Call until the input is consumed and the decoder has nothing left
      // to flush: the frame ended (0) or the call did not fill the buffer.
      while true {
        let consumedBefore = inBuf.pos
        let produced: Int = scratch.withUnsafeMutableBytes { out in
          var outBuf = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
          let ret = ZSTD_decompressStream(dctx, &outBuf, &inBuf)
          if ZSTD_isError(ret) != 0 {
            let name = String(cString: ZSTD_getErrorName(ret))
            failure = DecodeError(.badMagic, "zstd: \(name)", offset: inBuf.pos)
            return -1
          }
          lastRet = ret
          return outBuf.pos
        }
        if produced < 0 { return }
        if output.count + produced > limit {
          failure = DecodeError(.limitExceeded, "decompressed data exceeds \(limit) bytes")
          return
        }
        output.append(contentsOf: scratch[0..<produced])
        if inBuf.pos == inBuf.size && (lastRet == 0 || produced < chunk) { return }
        if produced == 0 && inBuf.pos == consumedBefore { return }  // no progress: stop
      }
    }
    if let failure { throw failure }
    guard lastRet == 0 else {
      throw DecodeError(.truncated, "zstd stream ends in the middle of a frame", offset: input.count)
    }
    return output
  }

  /// Compresses `input` into one zstd frame at `level`.
  public static func compress(_ input: [UInt8], level: Int32 = 3) throws(EncodeError) -> [UInt8] {
    let bound = ZSTD_compressBound(input.count)
    var out = [UInt8](repeating: 0, count: bound)
    let n = out.withUnsafeMutableBytes { o in
      input.withUnsafeBytes { i in
        ZSTD_compress(o.baseAddress, o.count, i.baseAddress, i.count, level)
      }
    }
    guard ZSTD_isError(n) == 0 else {
      throw EncodeError(.library, "zstd: \(String(cString: ZSTD_getErrorName(n)))")
    }
    return Array(out.prefix(n))
  }
}

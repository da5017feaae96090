// SPDX-License-Identifier: Apache-2.0
import CZstd
import KHOCore

extension Zstd {
  /// A zstd compressor that streams: bytes in, frame pieces out to `sink`,
  /// one output buffer held however much goes through.
  public final class Writer {
    private let cctx: OpaquePointer
    private let sink: (UnsafeRawBufferPointer) throws(DecodeError) -> Void
    private var out: [UInt8]

    /// A compressor at `level` whose output goes to `sink`.
    public init(level: Int32, sink: @escaping (UnsafeRawBufferPointer) throws(DecodeError) -> Void) throws(DecodeError)
    {
      guard let c = ZSTD_createCCtx() else {
        throw DecodeError(.unsupported, "libzstd could not allocate a compression context")
      }
      cctx = c
      self.sink = sink
      out = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
    }

    deinit { ZSTD_freeCCtx(cctx) }

    /// Compresses `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) {
      try run(bytes, end: false)
    }

    /// Ends the frame and flushes what is left.
    public func finish() throws(DecodeError) {
      try run(UnsafeRawBufferPointer(start: nil, count: 0), end: true)
    }

    private func run(_ bytes: UnsafeRawBufferPointer, end: Bool) throws(DecodeError) {
      var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
      while true {
        var failure: DecodeError?
        let (remaining, produced): (Int, Int) = out.withUnsafeMutableBytes { o in
          var output = ZSTD_outBuffer(dst: o.baseAddress, size: o.count, pos: 0)
          let r = ZSTD_compressStream2(cctx, &output, &input, end ? ZSTD_e_end : ZSTD_e_continue)
          if ZSTD_isError(r) != 0 {
            failure = DecodeError(.unsupported, "zstd: \(String(cString: ZSTD_getErrorName(r)))")
            return (0, 0)
          }
          return (r, output.pos)
        }
        if let failure { throw failure }
        if produced > 0 {
          let f = out.withUnsafeBytes { o -> DecodeError? in
            do throws(DecodeError) { try sink(UnsafeRawBufferPointer(rebasing: o[0..<produced])) } catch {
              return error
            }
            return nil
          }
          if let f { throw f }
        }
        if end ? remaining == 0 : input.pos == input.size { return }
      }
    }
  }
}

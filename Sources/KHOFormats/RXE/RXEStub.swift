// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// `rxe-liveupdate-v1` (soft-RoCE): a handler that registers its string but
/// cannot preserve anything, so no payload can exist under it.
public enum RXEStub: PayloadCodec {
  static var names: [(String, PayloadHost)] { [("rxe-liveupdate-v1", .file)] }
  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError) -> DecodedPayload {
    throw DecodeError(
      .unsupported,
      "unexpected handler: rxe-liveupdate-v1 registers the string but its preserve returns -EOPNOTSUPP; there is no data format",
      path: c.path, address: c.address)
  }
}

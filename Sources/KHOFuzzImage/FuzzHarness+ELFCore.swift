// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFuzzFormats
import KHOImage

extension FuzzHarness {
  /// Arbitrary bytes as an ELF core: refused, or every captured segment
  /// reads back at its start and end, and reads past it fail typed.
  @Sendable public static func elfCore(_ data: [UInt8]) -> String? {
    guard let core = try? ELFCore(bytes: Bytes(data)) else { return nil }
    for s in core.segments.prefix(64) {
      let n = Int(Swift.min(s.size, 64))
      guard (try? core.bytes(at: s.start, count: n))?.count == n else {
        return "captured segment \(s) does not read back"
      }
      if let past = s.start.advanced(by: s.size), !core.isCaptured(PhysRange(start: past, size: 1)) {
        if (try? core.bytes(at: past, count: 1)) != nil { return "read past \(s) succeeded" }
      }
    }
    return nil
  }
}

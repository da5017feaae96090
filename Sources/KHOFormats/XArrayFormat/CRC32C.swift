// SPDX-License-Identifier: Apache-2.0
/// CRC-32C (Castagnoli), the checksum of kho-xarray-v2 nodes.
///
/// Reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF
/// (the iSCSI / ext4 / Linux `crc32c()` convention with the usual pre- and
/// post-inversion). `CRC32C.checksum("123456789")` is 0xE3069283.
public enum CRC32C {
  /// Eight 256-entry tables for slicing-by-8.
  static let tables: [[UInt32]] = {
    var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
    for i in 0..<256 {
      var c = UInt32(i)
      for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
      t[0][i] = c
    }
    for i in 0..<256 {
      for k in 1..<8 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xff)] }
    }
    return t
  }()

  /// The checksum of `bytes`.
  public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    update(0xFFFF_FFFF, bytes) ^ 0xFFFF_FFFF
  }

  /// The checksum of `bytes`.
  public static func checksum(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { checksum($0) }
  }

  /// Continues a running (non-inverted) CRC over `bytes`.
  static func update(_ start: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var c = start
    var i = 0
    let n = bytes.count
    tables.withUnsafeBufferPointer { t in
      let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7]
      while n - i >= 8 {
        let lo =
          UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
          | UInt32(bytes[i + 3]) << 24
        let x = c ^ lo
        c =
          t7[Int(x & 0xff)] ^ t6[Int((x >> 8) & 0xff)] ^ t5[Int((x >> 16) & 0xff)]
          ^ t4[Int(x >> 24)] ^ t3[Int(bytes[i + 4])] ^ t2[Int(bytes[i + 5])]
          ^ t1[Int(bytes[i + 6])] ^ t0[Int(bytes[i + 7])]
        i += 8
      }
      while i < n {
        c = t0[Int((c ^ UInt32(bytes[i])) & 0xff)] ^ (c >> 8)
        i += 1
      }
    }
    return c
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The 40-byte header of a flattened device tree blob (always big-endian).
public struct FDTHeader: Hashable, Sendable, Codable {
  public static let magicValue: UInt32 = 0xd00d_feed
  public static let size = 40

  public var magic: UInt32
  public var totalSize: UInt32
  public var structOffset: UInt32
  public var stringsOffset: UInt32
  public var reserveMapOffset: UInt32
  public var version: UInt32
  public var lastCompatibleVersion: UInt32
  public var bootCPU: UInt32
  public var stringsSize: UInt32
  public var structSize: UInt32

  /// Reads the header fields without checking them.
  public init(reading bytes: Bytes) throws(DecodeError) {
    var r = ByteReader(bytes, order: .big, path: "/")
    guard bytes.count >= 4 else {
      throw r.error(.truncated, "\(bytes.count) bytes is too short for an FDT header")
    }
    magic = try r.u32()
    guard magic == Self.magicValue else {
      throw r.error(
        .badMagic, "FDT magic is 0x\(String(magic, radix: 16)), expected 0xd00dfeed", at: 0)
    }
    guard bytes.count >= Self.size else {
      throw r.error(.truncated, "\(bytes.count) bytes is too short for the 40-byte FDT header", at: 0)
    }
    totalSize = try r.u32()
    structOffset = try r.u32()
    stringsOffset = try r.u32()
    reserveMapOffset = try r.u32()
    version = try r.u32()
    lastCompatibleVersion = try r.u32()
    bootCPU = try r.u32()
    stringsSize = try r.u32()
    structSize = try r.u32()
  }
}

/// One `/memreserve/` entry of an FDT.
public struct FDTReservation: Hashable, Sendable, Codable {
  public var address: UInt64
  public var size: UInt64
  public init(address: UInt64, size: UInt64) {
    self.address = address
    self.size = size
  }
}

/// Structure-block tokens of the FDT format.
enum FDTToken: UInt32 {
  case beginNode = 1
  case endNode = 2
  case prop = 3
  case nop = 4
  case end = 9
}

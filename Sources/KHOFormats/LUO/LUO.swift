// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The Live Update Orchestrator's handover formats, luo-v1 … luo-v5.
///
/// LUO registers one KHO sub-blob named `LUO`. Decode it with
/// ``decode(from:blob:size:path:)``, which tells the version by content (an FDT
/// for luo-v1 and luo-v2, a raw `struct luo_ser` whose first bytes are its
/// compatible string for luo-v3 and later), or find it in a KHO root FDT
/// first with ``locate(in:order:)``:
///
///     let (blob, size) = try LUO.locate(in: rootFDT, order: memory.geometry.byteOrder)
///     let luo = try LUO.decode(from: memory, blob: blob, size: size)
///     for s in luo.state.sessions { print(s.name, s.files.count) }
///
/// Encode with ``encode(_:as:into:allocator:options:path:)``.
public enum LUO {
  /// The KHO sub-node name (`LUO_FDT_KHO_ENTRY_NAME`).
  public static let subnodeName = "LUO"
  /// The largest FDT-form blob read (the kernel writes one page).
  public static let maxFDTSize = 1 << 20
}

/// Names in the luo-v1 FDT (§6.2).
enum LUOv1FDT {
  static let liveUpdateNumber = "liveupdate-number"
  static let sessionNode = "luo-session"
  static let sessionHeader = "luo-session-header"
  static let flbNode = "luo-flb"
  static let flbCompatible = "luo-flb-v1"
  static let flbHeader = "luo-flb-header"
}

/// Names in the luo-v2 FDT (§6.3).
enum LUOv2FDT {
  static let abiHeader = "luo-abi-header"
}

extension LUO {
  /// Finds the `LUO` sub-blob in a KHO root FDT: its address (from
  /// `preserved-data`, or `fdt` in kho-v1) and its size (`blob-size`, kho-v3
  /// and later; `nil` when absent).
  ///
  /// - Throws: `DecodeError/Kind/missing` when there is no `LUO` node or
  ///   it has no address property; `DecodeError/Kind/outOfRange` when a
  ///   property is not 8 bytes or the address is 0.
  public static func locate(in root: FDT, order: ByteOrder) throws(DecodeError) -> (blob: PhysAddr, size: UInt64?) {
    let path = DecodePath.root.appending(subnodeName)
    guard let node = root.root.child(subnodeName) else {
      throw DecodeError(.missing, "the KHO root FDT has no LUO sub-node", path: path)
    }
    guard let prop = node.property("preserved-data") ?? node.property("fdt") else {
      throw DecodeError(
        .missing, "the LUO node has neither preserved-data nor fdt", path: path, offset: node.offset)
    }
    guard let raw = prop.u64(order), raw != 0 else {
      throw DecodeError(
        .outOfRange, "\(prop.name) must be a non-zero 8-byte address (\(prop.length) bytes)",
        path: path, offset: prop.valueOffset)
    }
    var size: UInt64?
    if let s = node.property("blob-size") {
      guard let v = s.u64(order) else {
        throw DecodeError(
          .outOfRange, "blob-size must be 8 bytes, is \(s.length)", path: path, offset: s.valueOffset)
      }
      size = v
    }
    return (PhysAddr(raw), size)
  }

  /// Decodes the `LUO` sub-blob at `blob`, telling its version by content.
  ///
  /// `size` is the root's `blob-size` (kho-v3+), or `nil` (kho-v1/v2: an
  /// FDT's size is its `totalsize`; a raw `luo_ser`'s comes from its
  /// compatible). Throws the first problem; ``decodeReporting(from:blob:size:path:)``
  /// collects them all instead.
  public static func decode(
    from memory: any PhysicalMemory, blob: PhysAddr, size: UInt64?,
    path: DecodePath = DecodePath.root.appending(subnodeName)
  ) throws(DecodeError) -> LUODecoded {
    var d = _LUODecoder(memory: memory, path: path, strict: true)
    return try d.run(blob: blob, size: size, expecting: nil)
  }

  /// Decodes the blob as `version`; a blob of another version is an
  /// `DecodeError/Kind/unknownVersion` error.
  public static func decode(
    from memory: any PhysicalMemory, blob: PhysAddr, size: UInt64?, as version: LUOVersion,
    path: DecodePath = DecodePath.root.appending(subnodeName)
  ) throws(DecodeError) -> LUODecoded {
    var d = _LUODecoder(memory: memory, path: path, strict: true)
    return try d.run(blob: blob, size: size, expecting: version)
  }

  /// Decodes what it can, recording every problem with its location:
  /// counts above a capacity are clamped, unreadable lists are left empty,
  /// chains stop at the first bad block.
  public static func decodeReporting(
    from memory: any PhysicalMemory, blob: PhysAddr, size: UInt64?,
    path: DecodePath = DecodePath.root.appending(subnodeName)
  ) -> DecodeOutcome<LUODecoded> {
    var d = _LUODecoder(memory: memory, path: path, strict: false)
    do {
      let decoded = try d.run(blob: blob, size: size, expecting: nil)
      return DecodeOutcome(decoded, d.problems)
    } catch {
      d.problems.record(error)
      return DecodeOutcome(nil, d.problems)
    }
  }
}

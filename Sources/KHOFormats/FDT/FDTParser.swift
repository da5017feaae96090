// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The one-pass validator and indexer behind ``FDT``.
///
/// All reads go through `load(_:)`, which checks bounds against the block
/// being read; offsets are `Int` and every sum is checked before use.
struct _FDTParser {
  let bytes: Bytes
  let header: FDTHeader
  var reservations: [FDTReservation] = []
  var nodes: [_NodeRecord] = []
  var props: [_PropRecord] = []
  var names: [String] = []

  init(_ bytes: Bytes, _ header: FDTHeader) {
    self.bytes = bytes
    self.header = header
  }

  mutating func run() throws(DecodeError) {
    let h = header
    let total = bytes.count
    guard h.version >= 16, h.lastCompatibleVersion <= 17 else {
      throw DecodeError(
        .unknownVersion,
        "FDT version \(h.version) (last compatible \(h.lastCompatibleVersion)) is not 16 or 17",
        offset: 20)
    }
    let structStart = Int(h.structOffset)
    let stringsStart = Int(h.stringsOffset)
    let structSize = h.version >= 17 ? Int(h.structSize) : total - structStart
    let stringsSize = Int(h.stringsSize)
    guard structStart % 4 == 0 else {
      throw DecodeError(.misaligned, "structure block offset \(structStart) is not 4-aligned", offset: 8)
    }
    guard structStart >= FDTHeader.size, structStart <= total, structSize >= 0,
      structSize <= total - structStart
    else {
      throw DecodeError(
        .outOfRange,
        "structure block [\(structStart), +\(structSize)) lies outside the \(total)-byte blob",
        offset: 8)
    }
    guard stringsStart >= FDTHeader.size, stringsStart <= total, stringsSize <= total - stringsStart
    else {
      throw DecodeError(
        .outOfRange,
        "strings block [\(stringsStart), +\(stringsSize)) lies outside the \(total)-byte blob",
        offset: 12)
    }
    try readReservations(total: total)
    try bytes.withUnsafeBytes { (raw) throws(DecodeError) in
      try walk(
        raw, structStart: structStart, structSize: structSize,
        stringsStart: stringsStart, stringsSize: stringsSize)
    }
  }

  private mutating func readReservations(total: Int) throws(DecodeError) {
    let start = Int(header.reserveMapOffset)
    guard start >= FDTHeader.size, start % 8 == 0, start <= total else {
      throw DecodeError(
        .outOfRange, "memory reservation map offset \(start) is invalid", offset: 16)
    }
    var r = ByteReader(bytes, order: .big)
    try r.seek(to: start)
    while true {
      guard r.remaining >= 16 else {
        throw r.error(.truncated, "memory reservation map runs past the blob")
      }
      let address = try r.u64()
      let size = try r.u64()
      if address == 0 && size == 0 { break }
      reservations.append(FDTReservation(address: address, size: size))
    }
  }

  /// Whether `raw[start..<end]` is UTF-8; ASCII (the usual case) without allocating.
  @inline(__always)
  static func isValidUTF8(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
    var i = start
    while i < end {
      if raw[i] >= 0x80 {
        return String(validating: UnsafeRawBufferPointer(rebasing: raw[start..<end]), as: UTF8.self) != nil
      }
      i += 1
    }
    return true
  }

  @inline(__always)
  private func be32(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
    UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
  }

  private mutating func walk(
    _ raw: UnsafeRawBufferPointer, structStart: Int, structSize: Int,
    stringsStart: Int, stringsSize: Int
  ) throws(DecodeError) {
    let end = structStart + structSize
    var off = structStart
    var stack: [Int32] = []
    // Index of each name offset in `names`, -1 when not seen yet.
    var nameSlot = [Int32](repeating: -1, count: stringsSize)
    var sawRoot = false
    nodes.reserveCapacity(structSize / 64)
    props.reserveCapacity(structSize / 24)
    var lastChild: [Int32] = []

    func fail(_ kind: DecodeError.Kind, _ msg: String, _ at: Int) -> DecodeError {
      DecodeError(kind, msg, offset: at)
    }

    while true {
      guard off <= end - 4 else {
        throw fail(.truncated, "structure block ends without FDT_END", off)
      }
      let tokenOffset = off
      let token = be32(raw, off)
      off += 4
      switch FDTToken(rawValue: token) {
      case .beginNode:
        if stack.isEmpty && sawRoot {
          throw fail(.inconsistent, "a second root node begins", tokenOffset)
        }
        guard stack.count < FDT.maxDepth else {
          throw fail(.limitExceeded, "nodes nest deeper than \(FDT.maxDepth)", tokenOffset)
        }
        // Name: NUL-terminated inside the structure block.
        var n = off
        while n < end, raw[n] != 0 { n += 1 }
        guard n < end else {
          throw fail(.badString, "node name is not terminated inside the structure block", off)
        }
        let nameLength = n - off
        guard Self.isValidUTF8(raw, off, n) else {
          throw fail(.badString, "node name is not valid UTF-8", off)
        }
        let index = Int32(nodes.count)
        let parent = stack.last ?? -1
        nodes.append(
          _NodeRecord(
            nameOffset: Int32(off), nameLength: Int32(nameLength), parent: parent,
            depth: Int32(stack.count), firstProp: Int32(props.count), propCount: 0,
            tokenOffset: Int32(tokenOffset)))
        if parent >= 0 {
          let p = Int(parent)
          nodes[p].childCount += 1
          let prev = lastChild[stack.count - 1]
          if prev < 0 { nodes[p].firstChild = index } else { nodes[Int(prev)].nextSibling = index }
          lastChild[stack.count - 1] = index
        }
        stack.append(index)
        lastChild.append(-1)
        sawRoot = true
        off = (n + 1 + 3) & ~3
      case .endNode:
        guard !stack.isEmpty else {
          throw fail(.inconsistent, "FDT_END_NODE without an open node", tokenOffset)
        }
        stack.removeLast()
        lastChild.removeLast()
      case .prop:
        guard let current = stack.last else {
          throw fail(.inconsistent, "property outside any node", tokenOffset)
        }
        guard nodes[Int(current)].childCount == 0 else {
          throw fail(.inconsistent, "property after a sub-node", tokenOffset)
        }
        guard off <= end - 8 else {
          throw fail(.truncated, "property header runs past the structure block", off)
        }
        let length = Int(be32(raw, off))
        let nameOff = Int(be32(raw, off + 4))
        off += 8
        guard length <= end - off else {
          throw fail(.truncated, "property value of \(length) bytes runs past the structure block", off - 8)
        }
        guard nameOff < stringsSize else {
          throw fail(.outOfRange, "property name offset \(nameOff) outside the strings block", off - 4)
        }
        var slot = nameSlot[nameOff]
        if slot < 0 {
          let s = stringsStart + nameOff
          var e = s
          let stringsEnd = stringsStart + stringsSize
          while e < stringsEnd, raw[e] != 0 { e += 1 }
          guard e < stringsEnd else {
            throw fail(.badString, "property name is not terminated inside the strings block", s)
          }
          guard let name = String(validating: UnsafeRawBufferPointer(rebasing: raw[s..<e]), as: UTF8.self)
          else { throw fail(.badString, "property name is not valid UTF-8", s) }
          slot = Int32(names.count)
          names.append(name)
          nameSlot[nameOff] = slot
        }
        props.append(_PropRecord(name: slot, valueOffset: Int32(off), valueLength: Int32(length)))
        nodes[Int(current)].propCount += 1
        off = (off + length + 3) & ~3
      case .nop:
        continue
      case .end:
        guard stack.isEmpty, sawRoot else {
          throw fail(.inconsistent, "FDT_END with \(stack.count) node(s) still open", tokenOffset)
        }
        guard off == end || header.version < 17 else {
          throw fail(.inconsistent, "\(end - off) bytes follow FDT_END in the structure block", off)
        }
        return
      case nil:
        throw fail(.outOfRange, "unknown structure token 0x\(String(token, radix: 16))", tokenOffset)
      }
    }
  }
}

import KHOCore

/// The fuzz input as captured memory starting at `base` (no copy).
final class InputMemory: PhysicalMemory {
  let geometry = PageGeometry.x86_64
  let base: UInt64
  let data: Bytes

  init(_ data: Bytes, base: UInt64) {
    self.data = data
    self.base = base
  }

  var segments: [PhysRange] { [PhysRange(start: PhysAddr(base), size: UInt64(data.count))] }

  func bytes(at address: PhysAddr, count: Int) throws(DecodeError) -> Bytes {
    guard address.rawValue >= base, address.rawValue - base <= UInt64(data.count) else {
      throw DecodeError(.notCaptured, "address \(address) is not captured", address: address)
    }
    guard let b = data.extracting(Int(address.rawValue - base), count: count) else {
      throw DecodeError(.crossesHole, "\(count) bytes at \(address) run past the input", address: address)
    }
    return b
  }
}

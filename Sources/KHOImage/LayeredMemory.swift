// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Several captured memories read as one: a read is served by the first
/// layer that captured the whole range.
///
/// `khodump capture` lays the blobs copied from debugfs over the memory
/// read from /proc/kcore or /dev/mem.
public final class LayeredMemory: PhysicalMemory {
  public let layers: [any PhysicalMemory]
  public let geometry: PageGeometry
  public let segments: [PhysRange]

  public init(_ layers: [any PhysicalMemory]) {
    self.layers = layers
    self.geometry = layers.first?.geometry ?? .x86_64
    // The union of every layer's segments, merged.
    var all = layers.flatMap(\.segments).sorted { $0.start < $1.start }
    var merged: [PhysRange] = []
    for r in all {
      if let last = merged.last, r.start.rawValue <= last.end {
        let end = Swift.max(last.end, r.end)
        merged[merged.count - 1].size = end - last.start.rawValue
      } else {
        merged.append(r)
      }
    }
    all = merged
    self.segments = all
  }

  public var generation: UInt64 { layers.reduce(0) { $0 &+ $1.generation } }

  public func bytes(at address: PhysAddr, count: Int) throws(DecodeError) -> Bytes {
    var first: DecodeError?
    for layer in layers {
      do { return try layer.bytes(at: address, count: count) } catch {
        if first == nil || first?.kind == .notCaptured { first = error }
      }
    }
    throw first ?? DecodeError(.notCaptured, "address \(address) is not in captured memory", address: address)
  }
}

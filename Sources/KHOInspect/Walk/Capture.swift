// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import KHOFormats
import KHOImage

/// Captures the handover of a live host: blobs from debugfs, everything
/// they point to from /proc/kcore (an ELF core) or /dev/mem.
public enum Capture {
  /// Where to read from.
  public struct Options: Sendable {
    public var debugfs: String
    public var side: String?
    public var mem: String?
    /// RAM ranges for a raw /dev/mem (default: System RAM from /proc/iomem).
    public var ramRanges: [PhysRange]?
    public var rootAddress: PhysAddr?
    public var geometry: PageGeometry

    public init(
      debugfs: String = "/sys/kernel/debug/kho", side: String? = nil, mem: String? = nil,
      ramRanges: [PhysRange]? = nil, rootAddress: PhysAddr? = nil, geometry: PageGeometry = .x86_64
    ) {
      self.debugfs = debugfs
      self.side = side
      self.mem = mem
      self.ramRanges = ramRanges
      self.rootAddress = rootAddress
      self.geometry = geometry
    }
  }

  /// Opens the live sources as one `HandoverSource`.
  public static func source(_ o: Options) throws -> HandoverSource {
    let blobs = try DebugfsDirectory(path: o.debugfs, side: o.side, geometry: o.geometry)
    var layers: [any PhysicalMemory] = [blobs.memory]
    var ram: (any PhysicalMemory)?
    if let mem = o.mem {
      let head = (try? DevMemMemory(path: mem, ranges: [PhysRange(start: 0, size: 4)], geometry: o.geometry))
        .flatMap { try? $0.bytes(at: 0, count: 4).array }
      if head == [0x7f, 0x45, 0x4c, 0x46] {
        ram = try ELFCore(unmappablePath: mem, geometry: o.geometry)
      } else {
        let ranges =
          o.ramRanges
          ?? DevMemMemory.systemRAM(
            iomem: (try? String(contentsOfFile: "/proc/iomem", encoding: .utf8)) ?? "")
        ram = try DevMemMemory(path: mem, ranges: ranges, geometry: o.geometry)
      }
    }
    if let ram { layers.append(ram) }
    var root = o.rootAddress
    if root == nil, let ram {
      // The root FDT's address is not in debugfs: find the page that holds
      // the same bytes as debugfs's copy.
      let want = blobs.rootFDT.array
      let fdtSize = (try? FDTHeader(reading: blobs.rootFDT)).map { Int($0.totalSize) } ?? want.count
      let n = Swift.min(want.count, fdtSize)
      root =
        RootScanner.scan(ram).first { c in
          (try? ram.bytes(at: c.address, count: n).array) == Array(want.prefix(n))
        }?.address
    }
    if let root {
      layers.append(try SegmentedMemory(geometry: o.geometry, pieces: [(root, blobs.rootFDT)]))
    }
    let memory = LayeredMemory(layers)
    return HandoverSource(
      capturing: memory, root: root, rootBytes: blobs.rootFDT, scratch: blobs.scratch, path: o.debugfs)
  }
}

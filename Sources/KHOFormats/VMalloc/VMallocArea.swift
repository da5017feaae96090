// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A decoded `vmalloc-v1` area: its chunk pages and the runs of data pages
/// they list, in virtual-address order.
public struct VMallocArea: Hashable, Sendable {
  /// The descriptor the area was read from.
  public let descriptor: VMallocDescriptor
  /// The `kho_vmalloc_chunk` pages, in chain order.
  public let chunks: [PhysAddr]
  /// The first page of each `2^order`-page run, in order.
  public let runs: [PhysAddr]
  /// The page geometry of the image.
  public let geometry: PageGeometry

  public init(
    descriptor: VMallocDescriptor, chunks: [PhysAddr], runs: [PhysAddr], geometry: PageGeometry
  ) {
    self.descriptor = descriptor
    self.chunks = chunks
    self.runs = runs
    self.geometry = geometry
  }

  /// The bytes in one run: `2^order` pages.
  public var runSize: UInt64 { geometry.pageSize64 << UInt64(descriptor.order) }

  /// The number of pages the runs cover.
  public var pageCount: UInt64 { UInt64(runs.count) << UInt64(descriptor.order) }

  /// The area's size in bytes.
  public var byteCount: UInt64 { UInt64(runs.count) * runSize }

  /// The data ranges, one per run, in virtual-address order.
  public var runRanges: [PhysRange] { runs.map { PhysRange(start: $0, size: runSize) } }

  /// Every page of the area (data and chunks) as ranges, for preserved-map checks.
  public var allRanges: [PhysRange] {
    chunks.map { PhysRange(start: $0, size: geometry.pageSize64) } + runRanges
  }
}

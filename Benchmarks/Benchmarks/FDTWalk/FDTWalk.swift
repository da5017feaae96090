// SPDX-License-Identifier: Apache-2.0
import Benchmark
import CFDT
import KHOCore
import KHOFormats

/// A DTB of 10,000 nodes and 100,000 properties: 100 top-level nodes with
/// 99 children each, ten properties per node (strings, cells, KHO u64s).
func makeBigTree() -> [UInt8] {
  func props(_ i: Int) -> [DeviceTreeProperty] {
    (0..<10).map { k in
      switch k % 3 {
      case 0: return .string("compatible-\(k)", "vendor,device-\(i)")
      case 1: return .u32("cell-\(k)", UInt32(truncatingIfNeeded: i * k))
      default: return .u64("preserved-data-\(k)", UInt64(i) << 12, .little)
      }
    }
  }
  var top: [DeviceTreeNode] = []
  var n = 1
  for i in 0..<100 {
    var kids: [DeviceTreeNode] = []
    for j in 0..<99 where n < 10_000 {
      kids.append(DeviceTreeNode("node\(j)", properties: props(n)))
      n += 1
    }
    top.append(DeviceTreeNode("group\(i)", properties: props(n), children: kids))
    n += 1
  }
  let root = DeviceTreeNode("", properties: [], children: top)
  return (try? FDTBuilder.build(root)) ?? []
}

nonisolated(unsafe) let blob = makeBigTree()

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident],
    maxDuration: .seconds(3), maxIterations: 200)

  // Ours: parse + validate + index in one pass, then visit every node and
  // property (name and value), as a consumer walking the tree would.
  Benchmark("FDT walk 10k nodes/100k props: KHOFormats.FDT") { benchmark in
    let bytes = Bytes(blob)
    benchmark.startMeasurement()
    var sum = 0
    if let fdt = try? FDT(parsing: bytes) {
      for node in fdt.nodes {
        for p in node.properties {
          sum &+= p.name.utf8.count &+ p.length
        }
      }
    }
    blackHole(sum)
  }

  // Peer: libfdt's own walk (fdt_next_node + property iteration +
  // fdt_getprop_by_offset for name and value), after fdt_check_header.
  Benchmark("FDT walk 10k nodes/100k props: libfdt") { benchmark in
    var sum = 0
    blob.withUnsafeBytes { raw in
      guard let fdt = raw.baseAddress, fdt_check_header(fdt) == 0 else { return }
      var depth: Int32 = 0
      var node: Int32 = 0
      while node >= 0 && depth >= 0 {
        var prop = fdt_first_property_offset(fdt, node)
        while prop >= 0 {
          var len: Int32 = 0
          var name: UnsafePointer<CChar>?
          if fdt_getprop_by_offset(fdt, prop, &name, &len) != nil, let name {
            sum &+= strlen(name) &+ Int(len)
          }
          prop = fdt_next_property_offset(fdt, prop)
        }
        node = fdt_next_node(fdt, node, &depth)
      }
    }
    blackHole(sum)
  }
}

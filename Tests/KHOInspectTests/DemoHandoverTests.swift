// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats
import Testing

@testable import KHOInspect

@Suite("Demo handover")
struct DemoHandoverTests {
  @Test("the demo root FDT is read back from its own image")
  func roundTrip() throws {
    let demo = try DemoHandover.build()
    let fdt = try demo.readRoot()
    #expect(fdt.root.property("compatible")?.string == "kho-v4")
    let map = try #require(fdt.root.property("preserved-memory-map")?.u64(.little))
    #expect(demo.image.hasPage(PhysAddr(map).pfn(demo.image.geometry)))
    let luo = try #require(fdt.root.child("LUO")?.property("preserved-data")?.u64(.little))
    var r = try demo.image.reader(at: PhysAddr(luo), count: 8, path: "/LUO")
    #expect(try r.cString(fixedSize: 8) == "luo-v5")
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore
import Testing

@testable import KHOFormats

@Suite("vmalloc-v1 areas")
struct VMallocTests {
  static func runs(_ n: Int, order: Int = 0, start: UInt64 = 0x3_0000_0000) -> [PhysAddr] {
    (0..<n).map { PhysAddr(start + UInt64($0) * (4096 << UInt64(order))) }
  }

  @Test func dataRoundTrip() throws {
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
    let d = try VMalloc.encode(data: data, into: image, allocator: &alloc)
    #expect(d.totalPages == 3)
    #expect(d.flags == VMallocDescriptor.allocFlag)
    #expect(d.order == 0)
    let area = try VMalloc.decode(d, from: image)
    #expect(area.runs.count == 3)
    #expect(area.chunks == [d.first])
    #expect(try VMalloc.readData(area, count: data.count, from: image) == data)
  }

  @Test("chunk count", arguments: [(1, 1), (510, 1), (511, 2), (512, 2), (1022, 3), (1023, 3)])
  func chunks(runCount: Int, chunkCount: Int) throws {
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    let d = try VMalloc.encode(runs: Self.runs(runCount), into: image, allocator: &alloc)
    let area = try VMalloc.decode(d, from: image)
    #expect(area.chunks.count == chunkCount)
    #expect(area.runs == Self.runs(runCount))
    #expect(area.pageCount == UInt64(runCount))
  }

  @Test func higherOrderRuns() throws {
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    let d = try VMalloc.encode(
      runs: Self.runs(4, order: 9), order: 9, flags: VMallocDescriptor.allocFlag | VMallocDescriptor.hugeVmapFlag,
      into: image, allocator: &alloc)
    #expect(d.totalPages == 2048)
    let area = try VMalloc.decode(d, from: image)
    #expect(area.runSize == 2 << 20)
    #expect(area.runs.count == 4)
    var bad = d
    bad.order = 10
    #expect(throws: DecodeError.self) { try VMalloc.decode(bad, from: image) }
  }

  @Test func descriptorBytes() throws {
    let image = PhysicalImage()
    image.zeroPage(0x100000)
    let d = VMallocDescriptor(first: 0x1_2345_6000, totalPages: 7, flags: 1, order: 2)
    d.write(to: image, at: 0x1_0000_0000)
    let raw = try image.bytes(at: 0x1_0000_0000, count: 16).array
    #expect(raw == [0x00, 0x60, 0x45, 0x23, 0x01, 0, 0, 0, 7, 0, 0, 0, 1, 0, 2, 0])
    var r = ByteReader(Bytes(raw), order: .little)
    #expect(try VMallocDescriptor(reading: &r) == d)
  }

  @Test func emptyDescriptor() throws {
    let area = try VMalloc.decode(.empty, from: PhysicalImage())
    #expect(area.runs.isEmpty)
    let bad = VMallocDescriptor(first: .zero, totalPages: 3, flags: 1, order: 0)
    #expect { try VMalloc.decode(bad, from: PhysicalImage()) } throws: { ($0 as? DecodeError)?.kind == .inconsistent }
  }

  func encoded(_ n: Int) throws -> (PhysicalImage, VMallocDescriptor) {
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    return (image, try VMalloc.encode(runs: Self.runs(n), into: image, allocator: &alloc))
  }

  @Test func totalPagesMismatch() throws {
    let (image, d) = try encoded(5)
    var more = d
    more.totalPages = 6
    #expect { try VMalloc.decode(more, from: image) } throws: { ($0 as? DecodeError)?.kind == .inconsistent }
    var fewer = d
    fewer.totalPages = 4
    #expect { try VMalloc.decode(fewer, from: image, path: "/v") } throws: {
      let e = $0 as? DecodeError
      return e?.kind == .inconsistent && e?.path == "/v/chunk[0]/phys[4]"
    }
  }

  @Test func chunkCycle() throws {
    let (image, d) = try encoded(600)
    let area = try VMalloc.decode(d, from: image)
    image.store(d.first.rawValue, at: area.chunks[1])
    #expect { try VMalloc.decode(d, from: image, path: "/v") } throws: {
      let e = $0 as? DecodeError
      return e?.kind == .cycle && e?.path == "/v/chunk[2]" && e?.address == d.first
    }
  }

  @Test func misalignedRunAndUnknownFlags() throws {
    let (image, d) = try encoded(3)
    var two = d
    two.order = 1
    two.totalPages = 6
    #expect { try VMalloc.decode(two, from: image) } throws: { ($0 as? DecodeError)?.kind == .misaligned }
    var flags = d
    flags.flags = 0x8
    #expect { try VMalloc.decode(flags, from: image) } throws: { ($0 as? DecodeError)?.kind == .unsupported }
    let lenient = VMalloc.decodeReporting(flags, from: image)
    #expect(lenient.value?.runs.count == 3)
    #expect(lenient.problems.map(\.kind) == [.unsupported])
  }

  @Test func uncapturedChunk() throws {
    let d = VMallocDescriptor(first: 0x5_0000_0000, totalPages: 1, flags: 1, order: 0)
    #expect { try VMalloc.decode(d, from: PhysicalImage(), path: "/v") } throws: {
      let e = $0 as? DecodeError
      return e?.kind == .notCaptured && e?.path == "/v/chunk[0]"
    }
  }
}

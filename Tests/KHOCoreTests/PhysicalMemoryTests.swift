// SPDX-License-Identifier: Apache-2.0
import PropertyBased
import Testing

@testable import KHOCore

@Suite("Page geometry and addresses")
struct GeometryTests {
  @Test("only 4, 16 and 64 KiB pages are accepted")
  func pageSizes() {
    #expect(PageGeometry(pageSize: 4096)?.pageShift == 12)
    #expect(PageGeometry(pageSize: 16384)?.pageShift == 14)
    #expect(PageGeometry(pageSize: 65536)?.pageShift == 16)
    #expect(PageGeometry(pageSize: 8192) == nil)
    #expect(PageGeometry(pageSize: 4095) == nil)
    #expect(PageGeometry(pageSize: 0) == nil)
  }

  @Test("address arithmetic follows the geometry")
  func arithmetic() {
    let g = PageGeometry.arm64_16K
    let a: PhysAddr = 0x1_0000_4010
    #expect(a.pfn(g) == 0x4_0001)
    #expect(a.pageOffset(g) == 0x10)
    #expect(!a.isPageAligned(g))
    #expect(PhysAddr(0x40_0000).isAligned(order: 8, g))
    #expect(!PhysAddr(0x40_0000).isAligned(order: 9, g))
    #expect(PhysAddr.ofPage(0x4_0001, g) == 0x1_0000_4000)
    #expect(PhysAddr.ofPage(UInt64.max, g) == nil)
    #expect(PhysAddr(UInt64.max).advanced(by: 1) == nil)
    #expect(a.description == "0x100004010")
  }
}

@Suite("Byte reader")
struct ByteReaderTests {
  @Test("integers honour the byte order")
  func integers() throws {
    let b = Bytes([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08])
    var le = ByteReader(b, order: .little)
    #expect(try le.u32() == 0x0403_0201)
    #expect(try le.u16() == 0x0605)
    var be = ByteReader(b, order: .big)
    #expect(try be.u64() == 0x0102_0304_0506_0708)
    #expect(be.isAtEnd)
  }

  @Test("a short read is a truncation error carrying offset and address")
  func truncation() {
    var r = ByteReader(Bytes([1, 2, 3]), order: .little, path: "/x", base: 0x1000)
    do {
      _ = try r.u32()
      Issue.record("read 4 bytes out of 3")
    } catch {
      #expect(error.kind == .truncated)
      #expect(error.path == "/x")
      #expect(error.address == 0x1000)
    }
  }

  @Test("fixed-size C strings stop at NUL and need one")
  func cStrings() throws {
    var r = ByteReader(Bytes(Array("vm-00".utf8) + [0, 0, 0] + Array("abcd".utf8)), order: .little)
    #expect(try r.cString(fixedSize: 8) == "vm-00")
    do {
      _ = try r.cString(fixedSize: 4)
      Issue.record("accepted an unterminated field")
    } catch {
      #expect(error.kind == .badString)
      #expect(error.offset == 8)
    }
    var bad = ByteReader(Bytes([0xff, 0xfe, 0]), order: .little)
    #expect(throws: DecodeError.self) { try bad.cString(fixedSize: 3) }
  }

  @Test("random reads never trap", .tags(.property))
  func randomReads() async {
    await propertyCheck(
      count: 300, input: Gen.uint8().array(of: 0...40), Gen.int(in: -4...48), Gen.int(in: -4...48)
    ) { data, off, n in
      var r = ByteReader(Bytes(data), order: .little)
      let ok = (try? r.seek(to: off)) != nil
      #expect(ok == (off >= 0 && off <= data.count))
      let got = try? r.bytes(count: n)
      let at = ok ? off : 0
      if n >= 0, n <= data.count - at {
        #expect(got?.array == Array(data[at..<at + n]))
      } else {
        #expect(got == nil)
      }
    }
  }
}

extension Tag {
  @Tag static var property: Self
}

@Suite("Physical image and allocator")
struct PhysicalImageTests {
  @Test("writes across pages read back, holes are reported")
  func sparse() throws {
    let image = PhysicalImage()
    image.write([UInt8](repeating: 0xab, count: 6000), at: 0x10_0800)
    #expect(image.pageNumbers == [0x100, 0x101])
    #expect(image.segments == [PhysRange(start: 0x10_0000, size: 0x2000)])
    #expect(try image.bytes(at: 0x10_0800, count: 6000).array == [UInt8](repeating: 0xab, count: 6000))
    #expect(try image.bytes(at: 0x10_0000, count: 4).array == [0, 0, 0, 0])
    do {
      _ = try image.bytes(at: 0x10_1ff0, count: 32)
      Issue.record("read across the end succeeded")
    } catch { #expect(error.kind == .crossesHole) }
    do {
      _ = try image.bytes(at: 0x5000, count: 1)
      Issue.record("read of an absent page succeeded")
    } catch { #expect(error.kind == .notCaptured) }
  }

  @Test("integers are stored in the image's byte order")
  func store() throws {
    let big = PhysicalImage(geometry: try #require(PageGeometry(pageShift: 16, byteOrder: .big)))
    big.store(UInt32(0x0102_0304), at: 0x3_0000)
    #expect(try big.bytes(at: 0x3_0000, count: 4).array == [1, 2, 3, 4])
    #expect(big.segments == [PhysRange(start: 0x3_0000, size: 0x1_0000)])
  }

  @Test("the allocator is deterministic, ascending and bounded")
  func allocator() throws {
    let image = PhysicalImage()
    var a = PageAllocator(
      ranges: [PhysRange(start: 0x1800, size: 0x3000), PhysRange(start: 0x10_0000, size: 0x4000)])
    #expect(try a.allocate(in: image) == 0x2000)
    #expect(try a.allocate(in: image) == 0x3000)
    // Two contiguous pages no longer fit in the first range.
    #expect(try a.allocate(pages: 2, in: image) == 0x10_0000)
    #expect(try a.allocate(pages: 2, in: image) == 0x10_2000)
    #expect(throws: EncodeError.self) { try a.allocate(in: image) }
    #expect(a.allocated == [0x2000, 0x3000, 0x10_0000, 0x10_2000])
    #expect(image.pageCount == 6)
  }

  @Test("segment search finds every byte of every segment and nothing else")
  func segmentIndex() {
    let segs = [
      PhysRange(start: 0x1000, size: 0x1000), PhysRange(start: 0x2000, size: 0x1000),
      PhysRange(start: 0x9000, size: 0x10),
    ]
    #expect(SegmentIndex.find(segs, 0xfff) == nil)
    #expect(SegmentIndex.find(segs, 0x1000) == 0)
    #expect(SegmentIndex.find(segs, 0x2fff) == 1)
    #expect(SegmentIndex.find(segs, 0x3000) == nil)
    #expect(SegmentIndex.find(segs, 0x900f) == 2)
    #expect(SegmentIndex.covers(segs, PhysRange(start: 0x1800, size: 0x1000)))
    #expect(!SegmentIndex.covers(segs, PhysRange(start: 0x2800, size: 0x1000)))
  }
}

@Suite("Decode errors")
struct DecodeErrorTests {
  @Test("an error says what, where and why")
  func description() {
    let e = DecodeError(
      .cycle, "block reached twice", path: DecodePath("/LUO").appending("sessions", index: 53), address: 0x1234_5000)
    #expect(e.description == "cycle at /LUO/sessions[53] (0x12345000): block reached twice")
    #expect(e.at("/other").path == "/LUO/sessions[53]")
    #expect(DecodeError(.missing, "x").at("/LUO").path == "/LUO")
  }
}

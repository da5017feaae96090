// SPDX-License-Identifier: Apache-2.0
import KHOCore
import Testing

@testable import KHOFormats

@Suite("memfd-v1 / memfd-v2")
struct MemfdTests {
  /// 2.5 pages: a patterned page, a zero page (a hole), a half page.
  static let contents: [UInt8] = {
    var b = [UInt8](repeating: 0, count: 4096 * 2 + 2048)
    for i in 0..<4096 { b[i] = UInt8(truncatingIfNeeded: i &* 7 &+ 3) }
    for i in 8192..<b.count { b[i] = UInt8(truncatingIfNeeded: i &* 5 &+ 1) }
    return b
  }()

  @Test("file round trip", arguments: MemfdVersion.allCases)
  func fileRoundTrip(version: MemfdVersion) throws {
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    let seals: UInt32 = version.hasSeals ? 0x5 : 0
    let (address, state) = try Memfd.encodeFile(
      contents: Self.contents, pos: 42, seals: seals, as: version, into: image, allocator: &alloc)
    #expect(state.folios.count == 2)
    #expect(state.folios.map(\.index) == [0, 2])
    let d = try Memfd.decode(from: image, at: address, version: version)
    #expect(d.state == state)
    #expect(d.state.pos == 42)
    #expect(d.state.size == UInt64(Self.contents.count))
    #expect(d.state.seals == seals)
    let c = try Memfd.readContents(d, from: image)
    #expect(c.data == Self.contents)
    #expect(c.assumedOrderZero)
    #expect(c.problems.isEmpty)
  }

  @Test func emptyFile() throws {
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    let a = try Memfd.encode(MemfdState(size: 0), as: .v1, into: image, allocator: &alloc)
    #expect(image.pageCount == 1)
    let d = try Memfd.decode(from: image, at: a, version: .v1)
    #expect(d.state.folios.isEmpty)
    #expect(d.folioArray.descriptor.isEmpty)
    #expect(try Memfd.readContents(d, from: image).data.isEmpty)
  }

  @Test func structLayout() throws {
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    let state = MemfdState(
      pos: 0x11, size: 0x2000, seals: 0x3f, folios: [MemfdFolio(pfn: 0x12345, flags: 3, index: 1)])
    let a = try Memfd.encode(state, as: .v2, into: image, allocator: &alloc)
    let raw = try image.bytes(at: a, count: 48).array
    #expect(raw[0] == 0x11 && raw[8] == 0x00 && raw[9] == 0x20)
    #expect(Array(raw[16..<24]) == [0x3f, 0, 0, 0, 0, 0, 0, 0])
    #expect(raw[24] == 1)
    let d = try Memfd.decode(from: image, at: a, version: .v2)
    let arrayPage = try #require(d.folioArray.runs.first)
    let entry = try image.bytes(at: arrayPage, count: 16).array
    // pfn in bits 0-51, flags in 52-63: 0x3000_0000_0012_345 little-endian.
    #expect(entry == [0x45, 0x23, 0x01, 0, 0, 0, 0x30, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    #expect(d.state == state)
  }

  @Test func encoderRefuses() throws {
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    #expect { try Memfd.encode(MemfdState(size: 1, seals: 1), as: .v1, into: image, allocator: &alloc) } throws: {
      ($0 as? EncodeError)?.kind == .notRepresentable
    }
    #expect { try Memfd.encode(MemfdState(size: 1, flags: 1), as: .v2, into: image, allocator: &alloc) } throws: {
      ($0 as? EncodeError)?.kind == .notRepresentable
    }
    #expect { try Memfd.encode(MemfdState(size: 1, seals: 0x40), as: .v2, into: image, allocator: &alloc) } throws: {
      ($0 as? EncodeError)?.kind == .notRepresentable
    }
    let wide = MemfdState(size: 1, folios: [MemfdFolio(pfn: 1 << 52, flags: 0, index: 0)])
    #expect { try Memfd.encode(wide, as: .v2, into: image, allocator: &alloc) } throws: {
      ($0 as? EncodeError)?.kind == .outOfRange
    }
  }

  func encoded(_ version: MemfdVersion = .v2) throws -> (PhysicalImage, PhysAddr) {
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    let (a, _) = try Memfd.encodeFile(contents: Self.contents, as: version, into: image, allocator: &alloc)
    return (image, a)
  }

  @Test func decoderGuards() throws {
    var (image, a) = try encoded()
    image.store(UInt32(1), at: PhysAddr(a.rawValue + 20))
    #expect { try Memfd.decode(from: image, at: a, version: .v2, path: "/m") } throws: {
      let e = $0 as? DecodeError
      return e?.kind == .unsupported && e?.address == PhysAddr(a.rawValue + 20) && e?.path == "/m"
    }
    (image, a) = try encoded()
    image.store(UInt32(0x80), at: PhysAddr(a.rawValue + 16))
    #expect { try Memfd.decode(from: image, at: a, version: .v2) } throws: {
      ($0 as? DecodeError)?.kind == .unsupported
    }
    (image, a) = try encoded()
    image.store(UInt64(300), at: PhysAddr(a.rawValue + 24))  // nr_folios beyond the 1-page array
    #expect { try Memfd.decode(from: image, at: a, version: .v2) } throws: { ($0 as? DecodeError)?.kind == .truncated }
    (image, a) = try encoded()
    image.store(UInt64(0), at: PhysAddr(a.rawValue + 24))  // nr_folios 0 with a descriptor
    #expect { try Memfd.decode(from: image, at: a, version: .v2) } throws: {
      ($0 as? DecodeError)?.kind == .inconsistent
    }
    let partial = Memfd.decodeReporting(from: image, at: a, version: .v2)
    #expect(partial.value?.state.folios.isEmpty == true)
    #expect(partial.problems.map(\.kind) == [.inconsistent])
    #expect { try Memfd.decode(from: image, at: 0x9_0000_0000, version: .v1) } throws: {
      ($0 as? DecodeError)?.kind == .notCaptured
    }
  }

  @Test func foliosOfHigherOrder() throws {
    let image = PhysicalImage()
    let folio: PhysAddr = 0x4_0000_0000  // order 1: two pages
    let bytes = (0..<8192).map { UInt8(truncatingIfNeeded: $0 / 3) }
    image.write(bytes, at: folio)
    var alloc = LUOTestSupport.allocator()
    let state = MemfdState(size: 8192, folios: [MemfdFolio(pfn: folio.pfn(.x86_64), flags: 2, index: 0)])
    let a = try Memfd.encode(state, as: .v1, into: image, allocator: &alloc)
    let d = try Memfd.decode(from: image, at: a, version: .v1)
    let guessed = try Memfd.readContents(d, from: image)
    #expect(guessed.assumedOrderZero)
    #expect(Array(guessed.data[0..<4096]) == Array(bytes[0..<4096]))
    #expect(guessed.data[4096..<8192].allSatisfy { $0 == 0 })
    let known = try Memfd.readContents(d, from: image, folioOrder: { $0 == folio ? 1 : nil })
    #expect(!known.assumedOrderZero)
    #expect(known.data == bytes)
    let unknown = try Memfd.readContents(d, from: image, folioOrder: { _ in nil })
    #expect(unknown.problems.map(\.kind) == [.missing])
  }

  @Test func missingFolioPages() throws {
    let (image, a) = try encoded(.v1)
    let d = try Memfd.decode(from: image, at: a, version: .v1)
    let page = try #require(d.state.folios.first?.address(.x86_64))
    image.removePage(page.pfn(.x86_64))
    #expect { try Memfd.readContents(d, from: image) } throws: { ($0 as? DecodeError)?.kind == .notCaptured }
    let lenient = try Memfd.readContents(d, from: image, missingPages: .zeroFill, path: "/m")
    #expect(lenient.problems.map(\.path) == ["/m/folios[0]"])
    #expect(lenient.data[0..<4096].allSatisfy { $0 == 0 })
    #expect(Array(lenient.data[8192...]) == Array(Self.contents[8192...]))
    #expect { try Memfd.readContents(d, from: image, limit: 100) } throws: {
      ($0 as? DecodeError)?.kind == .limitExceeded
    }
  }

  @Test func versionsByCompatible() {
    #expect(MemfdVersion(compatible: "memfd-v1") == .v1)
    #expect(MemfdVersion(compatible: "memfd-v2;vmalloc-v1") == .v2VMalloc)
    // The feature-flag LUO names the handler without a version.
    #expect(MemfdVersion(compatible: "memfd") == .features)
    #expect(MemfdVersion(compatible: "memfd-v3") == nil)
    #expect(MemfdVersion.v1.serSize == 40 && MemfdVersion.v2.serSize == 48 && MemfdVersion.features.serSize == 176)
  }
}

@Suite("feature-flag LUO and memfd")
struct FeatureFlagTests {
  @Test("the feature header sits where the compatible string was; unknown required bits are refused")
  func featureHeader() throws {
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    let state = MemfdState(pos: 7, size: 0x1000, seals: 0x5, folios: [MemfdFolio(pfn: 0x1234, flags: 2, index: 0)])
    let a = try Memfd.encode(state, as: .features, into: image, allocator: &alloc)
    let raw = try image.bytes(at: a, count: 176).array
    #expect(raw[0] == 3 && raw[8] == 3 && raw[16] == 3)  // supp, req, active: SEALS | FOLIOS
    #expect(raw[128] == 7 && raw[137] == 0x10)  // pos at 128, size at 136
    #expect(raw[144] == 5 && raw[152] == 1)  // seals at 144, nr_folios at 152
    #expect(try Memfd.decode(from: image, at: a, version: .features).state == state)
    // A required feature this reader does not know.
    image.store(UInt64(0x13), at: PhysAddr(a.rawValue + 8))
    #expect(throws: DecodeError.self) { try Memfd.decode(from: image, at: a, version: .features) }
    let lenient = Memfd.decodeReporting(from: image, at: a, version: .features)
    #expect(lenient.problems.map(\.kind) == [.unsupported])
    #expect(lenient.value?.state == state)
  }

  @Test("a feature-flag LUO blob is found by content, not by a string")
  func luoFeatures() throws {
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    let state = LUOTestSupport.sampleState()
    let enc = try LUO.encode(state, as: .features, into: image, allocator: &alloc)
    #expect(enc.size == 152)
    let d = try LUO.decode(from: image, blob: enc.blob, size: enc.size)
    #expect(d.version == .features)
    #expect(d.state == state)
    #expect(try image.bytes(at: enc.blob, count: 8).array == [7, 0, 0, 0, 0, 0, 0, 0])
    // luo-v4-kho-block-v1: a 24-byte compatible field moves every later field.
    let enc2 = try LUO.encode(state, as: .v4KhoBlock, into: image, allocator: &alloc)
    #expect(enc2.size == 48)
    let head = try image.bytes(at: enc2.blob, count: 48).array
    #expect(Array(head[0..<19]) == Array("luo-v4-kho-block-v1".utf8) && head[19...23].allSatisfy { $0 == 0 })
    #expect(head[24] == UInt8(state.liveUpdateNumber & 0xff))
    #expect(try LUO.decode(from: image, blob: enc2.blob, size: enc2.size).state == state)
  }
}

/// Hostile input (issue 20, class 9): two folios of one file page, or a folio past the end.
@Suite("memfd folio indices")
struct MemfdIndexTests {
  @Test("a repeated index and an index past the file's end are problems")
  func indices() throws {
    let image = PhysicalImage()
    var alloc = LUOTestSupport.allocator()
    let state = MemfdState(
      size: 0x2000,
      folios: [
        MemfdFolio(pfn: 0x1000, flags: 2, index: 0), MemfdFolio(pfn: 0x1001, flags: 2, index: 0),
        MemfdFolio(pfn: 0x1002, flags: 2, index: 2),
      ])
    let a = try Memfd.encode(state, as: .v2, into: image, allocator: &alloc)
    let r = Memfd.decodeReporting(from: image, at: a, version: .v2)
    #expect(r.problems.map(\.kind) == [.duplicate, .outOfRange])
    #expect(r.problems.first?.path.description.hasSuffix("folios[1]") == true)
    #expect(r.value?.state == state)  // still read in full
    #expect(throws: DecodeError.self) { try Memfd.decode(from: image, at: a, version: .v2) }
  }
}

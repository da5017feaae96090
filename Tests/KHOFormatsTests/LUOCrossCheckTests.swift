// SPDX-License-Identifier: Apache-2.0
import KHOCore
import Testing

@testable import KHOFormats

@Suite("LUO cross-link checks")
struct LUOCrossCheckTests {
  typealias S = LUOTestSupport

  @Test func duplicateNamesAndTokens() throws {
    let state = LUOState(
      liveUpdateNumber: 1,
      sessions: [
        LUOSession(
          name: "a",
          files: [
            LUOFile(compatible: "x", token: 5, data: 0), LUOFile(compatible: "y", token: 6, data: 0),
            LUOFile(compatible: "z", token: 5, data: 0),
          ]),
        LUOSession(name: "b"),
        LUOSession(name: "a"),
      ])
    for v in LUOVersion.allCases {
      let (image, enc) = try S.encode(state, v, options: LUOEncodeOptions(rejectDuplicates: false))
      let d = try LUO.decode(from: image, blob: enc.blob, size: enc.size)
      let problems = d.crossCheck()
      #expect(problems.map(\.kind) == [.duplicate, .duplicate])
      #expect(problems.map(\.path) == ["/LUO/sessions[2]", "/LUO/sessions[0]/files[2]"])
      #expect(problems[0].address == d.layout.sessionEntries[2])
      #expect(problems[1].address == d.layout.fileSets[0].entries[2].advanced(by: 56))
    }
  }

  /// A preserved set holding every page of `image`, minus `except`.
  func preserved(_ image: PhysicalImage, except: Set<UInt64> = []) -> (PhysAddr) -> Bool {
    let pages = Set(image.pageNumbers).subtracting(except)
    return { pages.contains($0.pfn(.x86_64)) }
  }

  @Test func everyMetadataPageMustBePreserved() throws {
    let state = LUOState(
      liveUpdateNumber: 1,
      sessions: [
        LUOSession(
          name: "s",
          files: [
            LUOFile(compatible: "iommufd-v1", token: 1, data: 0x1_0000_0000)
          ])
      ])
    for v in LUOVersion.allCases {
      let (image, enc) = try S.encode(state, v)
      let d = try LUO.decode(from: image, blob: enc.blob, size: enc.size)
      #expect(d.crossCheck(isPreserved: preserved(image)).isEmpty)
      for region in d.layout.regions {
        let pfn = region.range.start.pfn(.x86_64)
        let problems = d.crossCheck(isPreserved: preserved(image, except: [pfn]))
        #expect(problems.contains { $0.kind == .missing && $0.path == region.path })
      }
      #expect(Set(d.layout.regions.map(\.path)).count == d.layout.regions.count)
    }
  }

  @Test func unpreservedFileData() throws {
    let (image, enc) = try S.encode(S.sampleState(), .v5)
    let d = try LUO.decode(from: image, blob: enc.blob, size: enc.size)
    let problems = d.crossCheck(isPreserved: preserved(image))
    // The sample's file data addresses are outside the image.
    #expect(problems.count == 4)
    #expect(problems.allSatisfy { $0.kind == .missing })
    #expect(problems.first?.path == "/LUO/sessions[0]/files[0]")
    #expect(problems.first?.address == 0x2_0000_0000)
  }

  @Test func memfdFilesAreFollowed() throws {
    let image = PhysicalImage()
    var alloc = S.allocator()
    let (memfd, _) = try Memfd.encodeFile(
      contents: MemfdTests.contents, as: .v1, into: image, allocator: &alloc)
    let state = LUOState(
      liveUpdateNumber: 2,
      sessions: [
        LUOSession(
          name: "vm",
          files: [
            LUOFile(compatible: "memfd-v1", token: 1, data: memfd)
          ])
      ])
    let enc = try LUO.encode(state, as: .v4, into: image, allocator: &alloc)
    let d = try LUO.decode(from: image, blob: enc.blob, size: enc.size)
    #expect(d.crossCheck(isPreserved: preserved(image), memory: image).isEmpty)
    let m = try Memfd.decode(from: image, at: memfd, version: .v1)
    let folio = try #require(m.state.folios.first?.address(.x86_64))
    let chunk = try #require(m.folioArray.chunks.first)
    let problems = d.crossCheck(
      isPreserved: preserved(image, except: [folio.pfn(.x86_64), chunk.pfn(.x86_64)]), memory: image)
    #expect(
      problems.map(\.path) == [
        "/LUO/sessions[0]/files[0]/memfd/folios/chunk[0]", "/LUO/sessions[0]/files[0]/memfd/folios[0]",
      ])
    // A broken memfd is reported at its file.
    image.store(UInt64(300), at: PhysAddr(memfd.rawValue + 16))
    let broken = d.crossCheck(isPreserved: preserved(image), memory: image)
    #expect(broken.map(\.kind) == [.truncated])
    #expect(broken.first?.path == "/LUO/sessions[0]/files[0]/memfd")
  }

  @Test func declaredCountsAgainstWhatWasRead() throws {
    let (image, enc) = try S.encode(S.sampleState(), .v3)
    let d = try LUO.decode(from: image, blob: enc.blob, size: enc.size)
    S.poke(image, d.layout.sessions, 900)
    let report = LUO.decodeReporting(from: image, blob: enc.blob, size: enc.size)
    #expect(report.problems.map(\.kind) == [.badCount])
    // 819 sessions were read (mostly empty entries past the real three).
    let checked = report.value?.crossCheck() ?? []
    #expect(checked.contains { $0.kind == .inconsistent && $0.path == "/LUO/sessions" })
    #expect(checked.contains { $0.kind == .duplicate })
  }
}

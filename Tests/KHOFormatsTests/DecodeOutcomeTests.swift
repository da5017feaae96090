// SPDX-License-Identifier: Apache-2.0
import KHOCore
import Testing
import XArray

@testable import KHOFormats

/// The one lenient-decode contract: every codec's `decodeReporting` returns
/// a `DecodeOutcome`, problems past the cap are counted, and the map
/// dispatch answers like the codec it dispatches to.
@Suite("decode outcome")
struct DecodeOutcomeTests {
  @Test func collectorKeepsTheCapAndCountsTheRest() {
    var problems = DecodeProblems(strict: false)
    for i in 0..<(DecodeOutcome<Void>.maxProblems + 5) {
      problems.record(DecodeError(.badCount, "problem \(i)", path: "/t"))
    }
    let outcome = DecodeOutcome<Int>(7, problems)
    #expect(outcome.problems.count == DecodeOutcome<Int>.maxProblems)
    #expect(outcome.omittedProblems == 5)
    #expect(!outcome.isClean)
    #expect(outcome.allProblems.count == DecodeOutcome<Int>.maxProblems + 1)
    #expect(outcome.allProblems.last?.kind == .limitExceeded)
    #expect(outcome.allProblems.last?.message == "5 more problems not listed")
    #expect(outcome.allProblems.last?.path == "/t")
  }

  @Test func strictCollectorThrowsTheFirst() {
    var problems = DecodeProblems(strict: true)
    #expect(throws: DecodeError.self) { try problems.report(DecodeError(.missing, "first")) }
    #expect(problems.list.isEmpty)
  }

  @Test func aValueWithoutProblemsIsClean() {
    #expect(DecodeOutcome(value: 1).isClean)
    #expect(!DecodeOutcome<Int>(value: nil).isClean)
    #expect(DecodeOutcome(value: 1).allProblems.isEmpty)
  }

  @Test(arguments: MemoryMapFormat.allCases)
  func mapDispatchAnswersLikeTheCodec(format: MemoryMapFormat) throws {
    let (set, _) = randomSet(seed: 42, shape: .clusteredMixed)
    var (image, alloc) = freshImage()
    let at = try PreservedMemoryMap.encode(set, as: format, into: image, allocator: &alloc)
    let outcome = PreservedMemoryMap.decodeReporting(format, from: image, at: at)
    #expect(outcome.isClean)
    #expect(outcome.value?.set == set)
    switch format {
    case .radixV1:
      let direct = RadixTree.decodeReporting(from: image, root: at)
      #expect(outcome.value?.radixStats?.leaves == direct.value?.radixStats?.leaves)
      #expect(outcome.value?.chunkStats == nil)
    case .bitmapChunksV1:
      let direct = BitmapChunkList.decodeReporting(from: image, head: at)
      #expect(outcome.value?.chunkStats?.chunks == direct.value?.chunkStats?.chunks)
      #expect(outcome.value?.radixStats == nil)
    }
    // A damaged map: the same problems through either door.
    image.store(UInt64(0x7_0000_0000), at: at)
    let damaged = PreservedMemoryMap.decodeReporting(format, from: image, at: at)
    let direct =
      format == .radixV1
      ? RadixTree.decodeReporting(from: image, root: at) : BitmapChunkList.decodeReporting(from: image, head: at)
    #expect(!damaged.isClean)
    #expect(damaged.problems == direct.problems)
  }

  @Test func scratchArrayKeepsTheGoodAreas() {
    var bytes: [UInt8] = []
    for v: UInt64 in [0x1000, 0x2000, UInt64.max - 0xfff, 0x10_0000, 0x4000, 0x1000] {
      withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
    }
    bytes += [1, 2, 3]  // a partial entry
    let outcome = KHOScratch.decodeReporting(Bytes(bytes))
    #expect(outcome.problems.map(\.kind) == [.badCount, .outOfRange])
    #expect(outcome.problems.last?.path == "/scratch[1]")
    #expect(
      outcome.value == [KHOScratchArea(address: 0x1000, size: 0x2000), KHOScratchArea(address: 0x4000, size: 0x1000)])
    #expect(throws: DecodeError.self) { try KHOScratch.decode(Bytes(bytes)) }
  }

  @Test func wholeStructureFormsAnswerTheSameTwoCalls() throws {
    var x = XArray<UInt64>()
    for k: UInt64 in [1, 2, 700, 1 << 20] { x[k] = k &* 3 | 1 }
    var (image, alloc) = freshImage()
    let v1 = try KHOXArrayV1.encode(x, into: image, allocator: &alloc)
    let v2 = try KHOXArrayV2.encode(x, into: image, allocator: &alloc)
    #expect(KHOXArrayV1.decodeReporting(from: image, root: v1).value == x)
    #expect(KHOXArrayV2.decodeReporting(from: image, at: v2).value == x)
    let bad = KHOXArrayV2.decodeReporting(from: image, at: 0x9_0000_0000)
    #expect(bad.value == nil)
    #expect(bad.problems.count == 1)
  }
}

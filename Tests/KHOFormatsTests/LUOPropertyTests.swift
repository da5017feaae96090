// SPDX-License-Identifier: Apache-2.0
import KHOCore
import PropertyBased
import Testing

@testable import KHOFormats

@Suite("LUO properties")
struct LUOPropertyTests {
  /// Random session/file sets round-trip through every version that can
  /// express them; the others refuse with notRepresentable.
  @Test func roundTripThroughEveryVersion() async {
    await propertyCheck(count: 40, input: Gen.uint64(), Gen.int(in: 0...3)) { seed, shape in
      let state = LUOTestSupport.randomState(seed: seed, shape: shape)
      let able = LUO.versions(thatCanExpress: state, geometry: .x86_64)
      #expect(able.contains(.v5))
      for v in LUOVersion.allCases {
        if able.contains(v) {
          guard let (image, encoded) = try? LUOTestSupport.encode(state, v) else {
            Issue.record("\(v) failed to encode an expressible state")
            continue
          }
          let d = try? LUO.decode(from: image, blob: encoded.blob, size: encoded.size)
          #expect(d?.version == v)
          #expect(d?.state == state)
          #expect(d?.crossCheck().isEmpty == true)
        } else {
          #expect(throws: EncodeError.self) { try LUO.check(state, as: v, geometry: .x86_64) }
        }
      }
    }
  }

  @Test func shapesCoverTheInterestingCases() {
    let many = LUOTestSupport.randomState(seed: 1, shape: 1)
    #expect(many.sessions.count > 51)
    let big = LUOTestSupport.randomState(seed: 1, shape: 2)
    #expect(big.sessions[0].files.count > 63)
    let names = LUOTestSupport.randomState(seed: 1, shape: 3)
    #expect(names.sessions.allSatisfy { $0.name.utf8.count == 63 })
    #expect(names.sessions.contains { $0.files.isEmpty })
  }

  /// Random bytes in place of each structure never trap the decoders.
  @Test func randomBytesNeverTrap() async {
    await propertyCheck(count: 200, input: Gen.uint8().array(of: 0...256), Gen.int(in: 0...5)) { bytes, which in
      let (image, enc) =
        (try? LUOTestSupport.encode(LUOTestSupport.sampleState(), LUOVersion.allCases[which]))
        ?? (PhysicalImage(), LUOEncoded(version: .v1, blob: .zero, size: 0))
      guard let d = try? LUO.decode(from: image, blob: enc.blob, size: enc.size) else { return }
      let target = [d.layout.ser ?? enc.blob, d.layout.sessions, d.layout.flbs][Int(bytes.first ?? 0) % 3]
      if !target.isZero { image.write(bytes, at: target) }
      _ = try? LUO.decode(from: image, blob: enc.blob, size: enc.size)
      let report = LUO.decodeReporting(from: image, blob: enc.blob, size: enc.size)
      _ = report.value?.crossCheck(isPreserved: { _ in true }, memory: image)
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCompat
import KHOCore
import KHOFuzzFormats
import KHOFormats
import KHOImage

extension FuzzHarness {
  /// Arbitrary bytes as a bundle or core: the strict handover decoder the
  /// converter uses never traps; when it accepts the input, the model
  /// rebuilt into a new image (as is, and converted to luo-v5, memfd-v2 and
  /// kho-v4 where the converter allows) reads back with equal content.
  @Sendable public static func convert(_ data: [UInt8]) -> String? {
    guard
      let source = try? HandoverSource.open(
        bytes: Bytes(data), name: "fuzz", decompressionLimit: FuzzHarness.decompressionLimit),
      let root = source.rootAddress,
      let d = try? HandoverModel.decode(from: source.memory, root: root)
    else { return nil }
    // Bound the work: a fuzz input can declare a large preserved set over little captured memory.
    guard d.model.preservedData.count <= 1 << 16 else { return nil }
    var targets: [[ComponentID: String]] = [[:]]
    targets.append([.luo: "luo-v5"])
    targets.append([.memfd: "memfd-v2"])
    targets.append([.kho: "kho-v4"])
    for t in targets {
      guard let (_, m) = try? ModelConverter().run(d.model, targets: t) else { continue }
      let r: RebuiltHandover
      do { r = try m.rebuild(copyingFrom: source.memory, above: d.highestAddress) } catch {
        // Encoders may refuse what a lenient decode let through (e.g. duplicate names); that is typed.
        continue
      }
      guard let back = try? HandoverModel.decode(from: r.image, root: r.encoded.root) else {
        return "the rebuilt handover (\(t)) does not decode"
      }
      if back.model.contentLines() != m.contentLines() { return "the rebuilt handover (\(t)) reads back different" }
      if back.model.preservedData != m.preservedData { return "the rebuilt handover (\(t)) preserves different data" }
    }
    return nil
  }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCompat
import KHOCore
import KHOFormats
import KHOImage

/// Converts a captured handover to other component versions and writes the
/// result as a bundle (`khodump convert`).
///
///     let source = try HandoverSource.open("kho-v4-luo-v4.elf.zst")
///     let targets = try ModelConverter.targets(["luo-v5", "memfd-v2"])
///     let r = try ImageConversion.convert(source, targets: targets)
///     try Data(r.bundle).write(to: URL(fileURLWithPath: "converted.kho"))
///
/// Steps: walk the source and refuse it when the walk reports errors (a
/// conversion must say everything the old handover said); decode it into a
/// `HandoverModel`; plan and convert with `ModelConverter`, which
/// refuses anything lossy naming the session, file and field; rebuild it
/// into a new image (`HandoverModel/rebuild(copyingFrom:above:)`: data
/// pages copied to their old addresses, new metadata above everything the
/// source used); pack the image as a bundle; then open the bundle as any
/// verb would, walk it and decode it again, and fail unless it is clean and
/// says exactly what the converted model says.
///
/// The new preserved set is the old one minus the old metadata pages (root
/// FDT, LUO structures, memfd state and folio arrays, kexec metadata,
/// xarray pages) plus the new ones: what the writing kernel would have
/// preserved. Map pages are never in the set, as in the kernel.
public enum ImageConversion {
  /// What a conversion did.
  public struct Summary: Codable, Sendable {
    public var source: String
    /// The steps, `luo: luo-v4 → luo-v5`.
    public var steps: [String]
    /// Every component's version before and after.
    public var before: [String: String]
    public var after: [String: String]
    /// The new root FDT's address (in the bundle note).
    public var root: PhysAddr
    /// Where the new metadata starts.
    public var metadataBase: PhysAddr
    /// Captured pages copied to the same addresses.
    public var copiedPages: Int
    /// Old metadata pages dropped from the preserved set.
    public var droppedMetadataPages: Int
    /// New metadata pages added to it.
    public var metadataPages: Int
    /// Pages of the new preserved-memory map (not preserved).
    public var mapPages: Int
    /// Entries and pages of the new preserved set.
    public var preservedEntries: Int
    public var preservedPages: UInt64
    /// The bundle's size in bytes.
    public var bundleBytes: Int
    /// What the walker says about the result (notes only: anything worse fails the conversion).
    public var problems: [Problem]
  }

  /// A conversion's output.
  public struct Result {
    /// The bundle (zstd-compressed ELF core with the bundle note).
    public var bundle: [UInt8]
    /// The new image the bundle holds.
    public var image: PhysicalImage
    public var summary: Summary
    public var plan: ConversionPlan
    /// The source, decoded.
    public var decoded: DecodedHandover
    /// The model as converted (what the new handover says).
    public var converted: HandoverModel
    /// Where the converted model was written.
    public var encoded: EncodedHandover
  }

  /// Converts `source` to `targets` (one registry version per component; the rest keep theirs).
  ///
  /// - Throws: `ConversionError`: `unreadableSource` when the root is
  ///   unknown, the walk finds errors or the strict decode fails; the
  ///   converter's `badTarget`, `noRoute`, `lossy`, `unsatisfiedRequirement`;
  ///   `encodeFailed` when the result does not validate or read back equal.
  public static func convert(
    _ source: HandoverSource, targets: [ComponentID: String], compress: Bool = true, sourceName: String? = nil
  ) throws(ConversionError) -> Result {
    guard let rootAddress = source.rootAddress else {
      throw ConversionError(
        .unreadableSource, "the root FDT's physical address is unknown (debugfs does not expose it); give --fdt-phys")
    }
    let report = HandoverWalker(source: source).walk()
    let errors = report.problems.filter { $0.severity == .error }
    if !errors.isEmpty {
      var message =
        "the source handover has \(errors.count) error\(errors.count == 1 ? "" : "s"), so it cannot be converted faithfully:"
      for p in errors.prefix(10) { message += "\n  \(p)" }
      if errors.count > 10 { message += "\n  … and \(errors.count - 10) more" }
      throw ConversionError(.unreadableSource, message)
    }
    let decoded: DecodedHandover
    do { decoded = try HandoverModel.decode(from: source.memory, root: rootAddress) } catch {
      throw ConversionError(.unreadableSource, "the source does not decode strictly: \(error)")
    }
    let (plan, converted) = try ModelConverter().run(decoded.model, targets: targets)
    let rebuilt = try converted.rebuild(copyingFrom: source.memory, above: decoded.highestAddress)
    let name = sourceName ?? URL(fileURLWithPath: source.path).lastPathComponent
    let stepText = plan.steps.map { "\($0.component): \($0.route.path)" }
    let note = BundleNote(
      root: rebuilt.encoded.root, geometry: converted.geometry,
      source: "\(name) converted" + (stepText.isEmpty ? "" : " (" + stepText.joined(separator: "; ") + ")"))
    let bundle: [UInt8]
    do {
      bundle = try BundleWriter.write(rebuilt.image, ranges: rebuilt.image.segments, note: note, compress: compress)
    } catch {
      throw ConversionError(.encodeFailed, "writing the bundle failed: \(error)")
    }
    let problems = try verify(bundle, converted: converted, name: name)
    let summary = Summary(
      source: source.path, steps: stepText, before: plan.before, after: plan.after, root: rebuilt.encoded.root,
      metadataBase: rebuilt.metadataBase, copiedPages: rebuilt.copiedPages,
      droppedMetadataPages: decoded.metadataPages.count, metadataPages: rebuilt.encoded.metadataPages.count,
      mapPages: rebuilt.encoded.mapPages.count, preservedEntries: rebuilt.encoded.preserved.count,
      preservedPages: rebuilt.encoded.preserved.pageCount, bundleBytes: bundle.count, problems: problems)
    return Result(
      bundle: bundle, image: rebuilt.image, summary: summary, plan: plan, decoded: decoded, converted: converted,
      encoded: rebuilt.encoded)
  }

  /// Opens the bundle as every verb does, walks it and decodes it again;
  /// returns the walk's notes, or fails when it finds more or reads back
  /// something other than `converted`.
  static func verify(_ bundle: [UInt8], converted: HandoverModel, name: String) throws(ConversionError) -> [Problem] {
    do {
      let source = try HandoverSource.open(bytes: Bytes(bundle), name: name)
      let report = HandoverWalker(source: source).walk()
      let bad = report.problems.filter { $0.severity != .note }
      if !bad.isEmpty {
        throw ConversionError(
          .encodeFailed,
          "the converted handover does not validate: " + bad.prefix(5).map(\.description).joined(separator: "; "))
      }
      guard let root = source.rootAddress else { throw ConversionError(.encodeFailed, "the bundle has no root") }
      let back = try HandoverModel.decode(from: source.memory, root: root)
      guard back.model.contentLines() == converted.contentLines(), back.model.preservedData == converted.preservedData,
        back.model.componentVersions == converted.componentVersions
      else {
        throw ConversionError(.encodeFailed, "the converted handover reads back different from what was converted")
      }
      return report.problems
    } catch let e as ConversionError {
      throw e
    } catch {
      throw ConversionError(.encodeFailed, "the converted bundle does not read back: \(error)")
    }
  }
}

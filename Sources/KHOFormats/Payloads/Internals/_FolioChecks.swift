// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The checks every folio array of a file-like payload gets.
enum _FolioChecks {
  /// Checks folio entries: each non-empty folio's file index is aligned to
  /// its order (in base pages), lies below the file size, and is not used
  /// twice; its PFN is aligned to its order. Lists each folio as a reference.
  static func check(
    _ folios: [MemfdFolio], fileSize: UInt64, order: Int, path: DecodePath, geometry g: PageGeometry,
    problems: inout DecodeProblems, references: inout [PayloadReference], what: String
  ) throws(DecodeError) {
    let pagesInFile = fileSize >> UInt64(g.pageShift) + (fileSize & g.pageMask == 0 ? 0 : 1)
    let span = UInt64(1) << UInt64(order)
    var seen: [UInt64: Int] = [:]
    seen.reserveCapacity(Swift.min(folios.count, 1 << 16))
    for (i, f) in folios.enumerated() where !f.isEmpty {
      let p = path.index(i)
      guard let a = PhysAddr.ofPage(f.pfn, g) else {
        try problems.report(
          DecodeError(.outOfRange, "pfn 0x\(String(f.pfn, radix: 16)) is past the address space", path: p))
        continue
      }
      if f.pfn & (span - 1) != 0 || f.index & (span - 1) != 0 {
        try problems.report(
          DecodeError(
            .misaligned, "folio pfn 0x\(String(f.pfn, radix: 16)) or index \(f.index) is not aligned to order \(order)",
            path: p, address: a))
      }
      if f.index >= pagesInFile {
        try problems.report(
          DecodeError(
            .outOfRange, "folio index \(f.index) is at or past the file's end (\(pagesInFile) pages)", path: p,
            address: a))
      }
      if let first = seen.updateValue(i, forKey: f.index) {
        try problems.report(
          DecodeError(.duplicate, "folio index \(f.index) is also used by \(path.index(first))", path: p, address: a))
      }
      references.append(PayloadReference(.folio, a, pages: span, order: order, path: p, what: what))
    }
  }
}

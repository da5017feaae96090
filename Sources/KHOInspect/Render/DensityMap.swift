// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// Draws the physical address space as a density strip for a terminal.
///
/// One row per address range; each cell is shaded by the fraction of its
/// pages that are preserved (` ` none, `·` under 1%, `░` under 25%, `▒`
/// under 50%, `▓` under 100%, `█` all). Each row ends with its address
/// range and the entries per order it holds. Runs of empty rows fold into
/// one `…` line.
public struct DensityMap {
  public var rows: Int
  public var columns: Int

  public init(rows: Int = 32, columns: Int = 64) {
    self.rows = Swift.max(1, Swift.min(rows, 4096))
    self.columns = Swift.max(8, Swift.min(columns, 512))
  }

  static let shades: [Character] = [" ", "·", "░", "▒", "▓", "█"]

  static func shade(_ fraction: Double) -> Character {
    if fraction <= 0 { return shades[0] }
    if fraction >= 1 { return shades[5] }
    if fraction < 0.01 { return shades[1] }
    if fraction < 0.25 { return shades[2] }
    if fraction < 0.5 { return shades[3] }
    return shades[4]
  }

  public func render(_ set: PreservedSet) -> String {
    let g = set.geometry
    guard let first = set.first else { return "(no preserved pages)\n" }
    var lastEnd: UInt64 = 0
    for e in set { lastEnd = Swift.max(lastEnd, e.pfn(g) &+ e.pageCount) }
    // Span in pages, rounded up to a multiple of the cell count.
    let cells = UInt64(rows * columns)
    let lo = first.pfn(g) / cells * cells
    let span = Swift.max(lastEnd - lo, 1)
    let perCell = (span + cells - 1) / cells
    var filled = [UInt64](repeating: 0, count: Int(cells))
    var perRowOrders = [[Int: Int]](repeating: [:], count: rows)
    for e in set {
      var p = e.pfn(g)
      var n = e.pageCount
      let row = Int(Swift.min((p - lo) / perCell / UInt64(columns), UInt64(rows - 1)))
      perRowOrders[row][e.order, default: 0] += 1
      while n > 0 {
        let c = Int(Swift.min((p - lo) / perCell, cells - 1))
        let cellEnd = lo + UInt64(c + 1) * perCell
        let take = Swift.min(n, Swift.max(cellEnd - p, 1))
        filled[c] += take
        p += take
        n -= take
      }
    }
    var out =
      "preserved pages by physical address: \(columns) cells per row, \(formatBytes(perCell << UInt64(g.pageShift))) per cell\n"
    var folded = false
    for r in 0..<rows {
      let slice = filled[r * columns..<(r + 1) * columns]
      if slice.allSatisfy({ $0 == 0 }) {
        if !folded { out += "…\n" }
        folded = true
        continue
      }
      folded = false
      let start = PhysAddr((lo + UInt64(r * columns) * perCell) << UInt64(g.pageShift))
      let strip = String(slice.map { Self.shade(Double($0) / Double(perCell)) })
      let orders = perRowOrders[r].keys.sorted().map { "o\($0):\(perRowOrders[r][$0] ?? 0)" }.joined(separator: " ")
      let hex = String(start.rawValue, radix: 16)
      out +=
        String(repeating: " ", count: Swift.max(0, 12 - hex.count)) + "0x" + hex + " |" + strip + "| " + orders + "\n"
    }
    return out
  }
}

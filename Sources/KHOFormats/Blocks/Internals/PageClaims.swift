// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A hook the block walker calls before it reads each block.
protocol _BlockVisitor {
  /// Returns a problem to stop the chain at block `index` (at `address`).
  mutating func enter(block address: PhysAddr, index: Int, chain: DecodePath) -> DecodeError?
}

/// The visitor of a plain walk: nothing to check before reading.
struct _NoVisitor: _BlockVisitor {
  @inline(__always)
  func enter(block address: PhysAddr, index: Int, chain: DecodePath) -> DecodeError? { nil }
}

/// Which part of a handover owns each page, so that no page is read as two
/// things: a block met twice in one chain is a cycle; a page used by two
/// structures (two sessions' file chains, an array overlapping a block) is
/// a duplicate. With every structure on pages of its own, a decoder's work
/// is bounded by the memory that was captured.
struct PageClaims: _BlockVisitor {
  private(set) var owners: [UInt64: DecodePath] = [:]
  let geometry: PageGeometry

  init(geometry: PageGeometry) { self.geometry = geometry }

  mutating func enter(block address: PhysAddr, index: Int, chain: DecodePath) -> DecodeError? {
    let pfn = address.pfn(geometry)
    if let owner = owners[pfn] {
      let here = chain.appending("block", index: index)
      if owner == chain {
        return DecodeError(
          .cycle, "chain returns to block \(address), already read as part of \(chain)", path: here,
          address: address)
      }
      return DecodeError(
        .duplicate, "block \(address) is also used by \(owner)", path: here, address: address)
    }
    owners[pfn] = chain
    return nil
  }

  /// Claims every page `range` touches for `path`; returns the problem when
  /// one of them already belongs to something else.
  mutating func claim(_ range: PhysRange, for path: DecodePath) -> DecodeError? {
    guard range.size > 0 else { return nil }
    let first = range.start.pfn(geometry)
    let last = (range.end - 1) >> UInt64(geometry.pageShift)
    var p = first
    while p <= last {
      if let owner = owners[p], owner != path {
        return DecodeError(
          .duplicate,
          "page \(PhysAddr.ofPage(p, geometry) ?? .zero) of \(path) is also used by \(owner)",
          path: path, address: range.start)
      }
      p += 1
    }
    p = first
    while p <= last {
      owners[p] = path
      p += 1
    }
    return nil
  }
}

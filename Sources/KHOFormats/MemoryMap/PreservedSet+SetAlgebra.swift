// SPDX-License-Identifier: Apache-2.0
import KHOCore

extension PreservedSet {
  /// The entries in `self`, in `other`, or in both.
  ///
  /// - Precondition-free: sets of different geometries combine to `self`
  ///   unchanged (their entries are not comparable); check ``geometry``.
  public func union(_ other: PreservedSet) -> PreservedSet {
    combining(other, keepSelf: true, keepOther: true) { $0 | $1 }
  }

  /// The entries in `self` that are not in `other`.
  public func subtracting(_ other: PreservedSet) -> PreservedSet {
    combining(other, keepSelf: true, keepOther: false) { $0 & ~$1 }
  }

  /// The entries in both sets.
  public func intersection(_ other: PreservedSet) -> PreservedSet {
    combining(other, keepSelf: false, keepOther: false) { $0 & $1 }
  }

  /// The entries in exactly one of the sets.
  public func symmetricDifference(_ other: PreservedSet) -> PreservedSet {
    combining(other, keepSelf: true, keepOther: true) { $0 ^ $1 }
  }

  /// Adds the entries of `other`.
  public mutating func formUnion(_ other: PreservedSet) {
    self = union(other)
    _checkInvariants()
  }

  /// Removes the entries of `other`.
  public mutating func subtract(_ other: PreservedSet) {
    self = subtracting(other)
    _checkInvariants()
  }

  /// Whether every entry of `self` is in `other`.
  public func isSubset(of other: PreservedSet) -> Bool { subtracting(other).isEmpty }

  private func combining(
    _ other: PreservedSet, keepSelf: Bool, keepOther: Bool, _ op: (UInt64, UInt64) -> UInt64
  ) -> PreservedSet {
    guard geometry == other.geometry else { return self }
    var out = PreservedSet(geometry: geometry)
    let w = wordsPerChunk
    for o in _orders.indices {
      let a = _orders[o]
      let b = other._orders[o]
      if a.isEmpty && b.isEmpty { continue }
      if b.isEmpty {
        if keepSelf { out._orders[o] = a }
        continue
      }
      if a.isEmpty {
        if keepOther { out._orders[o] = b }
        continue
      }
      out._orders[o] = _OrderBitmap.combining(
        a, b, wordsPerChunk: w, keepA: keepSelf, keepB: keepOther, op)
    }
    return out
  }
}

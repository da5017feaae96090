// SPDX-License-Identifier: Apache-2.0
// Equatable, description, Sendable, invariant checks.

extension XArray: Equatable where Value: Equatable {
  /// Two arrays are equal when they hold the same entries (extent, element
  /// and marks).
  public static func == (a: XArray, b: XArray) -> Bool {
    if a._main === b._main && a._ranges === b._ranges { return true }
    guard a.count == b.count else { return false }
    var i = _EntryIterator(a)
    var j = _EntryIterator(b)
    while true {
      let x = i.next()
      let y = j.next()
      if x == nil && y == nil { return true }
      guard x == y else { return false }
    }
  }
}

extension XArray: CustomStringConvertible, CustomDebugStringConvertible {
  /// `[index: element, first...last: element]`, marks after a `*`.
  public var description: String {
    var parts: [String] = []
    forEachEntry { e in
      var s = e.order == 0 ? "\(e.index)" : "\(e.index)...\(e.lastIndex)"
      s += ": \(e.element)"
      if !e.marks.isEmpty {
        s += " *" + XArrayMark.all.filter { e.marks.contains($0) }.map { "\($0.rawValue)" }.joined()
      }
      parts.append(s)
    }
    return parts.isEmpty ? "[:]" : "[" + parts.joined(separator: ", ") + "]"
  }

  public var debugDescription: String { "XArray(\(description))" }
}

// Value semantics: every mutation copies shared storage first.
extension XArray: @unchecked Sendable where Value: Sendable {}

extension XArray {
  /// A description of the first broken structural invariant, or nil.
  ///
  /// For tests; walks every node.
  public func _invariantViolation() -> String? {
    if let e = _main.invariantViolation() { return "main: " + e }
    guard let r = _ranges else { return nil }
    if r.count == 0 { return "empty range tree kept" }
    if let e = r.invariantViolation() { return "ranges: " + e }
    var lastEnd: UInt64?
    var it = _Cursor(r, from: 0)
    while let (k, v) = it.next() {
      if v.order == 0 || v.order > 64 { return "range order \(v.order) at \(k)" }
      let last = v.last(k)
      if v.order < 64 && k & ((1 << UInt64(v.order)) - 1) != 0 { return "misaligned range at \(k)" }
      if let le = lastEnd, k <= le { return "overlapping ranges at \(k)" }
      if let p = _main.next(from: k, mark: nil), p.key <= last {
        return "single entry \(p.key) inside range at \(k)"
      }
      lastEnd = last
      if last == .max { break }
    }
    return nil
  }

  /// Traps if a structural invariant is broken. For tests.
  public func _checkInvariants() {
    if let e = _invariantViolation() { preconditionFailure("XArray invariant: \(e)") }
  }
}

extension XArray {
  /// How many nodes of each kind the array has (`coarse` of the branches
  /// are in the 16-slot form). For tests and benchmarks.
  public var _nodeCounts: (branches: Int, coarse: Int, leaves: Int, buckets: Int) {
    var c = (0, 0, 0, 0)
    _main.countNodes(_main.root, &c)
    return c
  }
}

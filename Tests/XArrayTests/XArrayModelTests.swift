// SPDX-License-Identifier: Apache-2.0
import PropertyBased
import Testing
import XArray

/// Decodes a random word into a key from one of several distributions, so
/// that sequences hit leaves, buckets, splits, branches and the key limits.
func key(_ x: UInt64) -> UInt64 {
  let r = x >> 8
  switch x & 7 {
  case 0, 1: return r % 300  // dense: leaves
  case 2: return 0x4000 + (r % 4000) * 3  // PFN-like
  case 3: return 0x1234_0000_0000 | (r % 0x10_0000) << 10  // sparse, shared prefix
  case 4: return r % 130 << 20  // one slot each
  case 5: return UInt64.max - r % 200
  case 6: return r | (x << 56)
  default: return r % 5000
  }
}

/// Applies one operation to both and checks they agree.
func step(_ x: UInt64, _ xa: inout XArray<Int>, _ model: inout ReferenceModel) -> String? {
  let k = key(x)
  let v = Int(truncatingIfNeeded: (x >> 40) & 0xffff)
  let m = Int((x >> 3) % 3)
  let mark = XArrayMark(rawValue: m)!
  switch (x >> 59) % 12 {
  case 0, 1, 2:
    if xa.store(v, at: k) != model.store(v, k) { return "store \(k)" }
  case 3:
    if xa.erase(at: k) != model.erase(k) { return "erase \(k)" }
  case 4:
    let ok = model.load(k) == nil
    if xa.insert(v, at: k) != ok { return "insert \(k)" }
    if ok { _ = model.store(v, k) }
  case 5:
    let order = Int((x >> 20) % 12) + (x & 0x100 != 0 ? 0 : 1)
    xa.store(v, order: order, at: k)
    model.store(v, order: order, k)
  case 6, 7:
    if xa.setMark(mark, at: k) != model.mark(m, k, true) { return "setMark \(k)" }
  case 8:
    xa.clearMark(mark, at: k)
    _ = model.mark(m, k, false)
  case 9:
    let expected: Int? = (x & 0x200 != 0) ? model.load(k) : v
    let desired: Int? = (x & 0x400 != 0) ? nil : v &+ 1
    let r = xa.compareExchange(at: k, expected: expected, desired: desired)
    let cur = model.load(k)
    if r.original != cur || r.exchanged != (cur == expected) { return "cmpxchg \(k)" }
    if r.exchanged {
      if let d = desired { _ = model.store(d, k) } else { _ = model.erase(k) }
    }
  case 10:
    let hi = k &+ (x >> 30) % 500
    let range = k...Swift.max(k, hi)
    if xa.firstFreeIndex(in: range) != model.firstFree(range.lowerBound, range.upperBound) {
      return "firstFree \(range)"
    }
  default:
    let mk: XArrayMark? = x & 0x800 != 0 ? mark : nil
    if xa.firstIndex(from: k, marked: mk) != model.firstIndex(k, mk?.rawValue) {
      return "firstIndex \(k) \(String(describing: mk))"
    }
    if xa.lastIndex(through: k, marked: mk) != model.lastIndex(k, mk?.rawValue) {
      return "lastIndex \(k) \(String(describing: mk))"
    }
  }
  if xa.load(at: k) != model.load(k) { return "load \(k) after op" }
  if xa.marks(at: k).map(\.rawValue) != model.marks(k) { return "marks \(k) after op" }
  return nil
}

/// Full comparison of contents, iteration and invariants.
func compare(_ xa: XArray<Int>, _ model: ReferenceModel) -> String? {
  if let e = xa._invariantViolation() { return e }
  if xa.count != model.entries.count { return "count \(xa.count) != \(model.entries.count)" }
  let got = xa.allEntries.map { ($0.index, $0.order, $0.element, $0.marks.rawValue) }
  let want = model.sorted.map { ($0.0, $0.1.order, $0.1.value, $0.1.marks) }
  if !got.elementsEqual(want, by: { $0 == $1 }) { return "entries differ" }
  let plain = Array(xa).map(\.index)
  if plain != want.map(\.0) { return "iteration differs" }
  let back = Array(xa.entries(reversedFrom: .max)).map(\.index)
  if back != want.map(\.0).reversed() { return "reverse iteration differs" }
  for m in 0..<3 {
    let mk = XArrayMark(rawValue: m)!
    let marked = Array(xa.entries(marked: mk)).map(\.index)
    if marked != want.filter({ $0.3 & (1 << m) != 0 }).map(\.0) { return "marked \(m) differs" }
  }
  return nil
}

@Suite("XArray against a reference model")
struct XArrayModelTests {
  @Test("random operation sequences agree with the model")
  func randomSequences() async {
    await propertyCheck(count: 200, input: Gen.uint64().array(of: 1...600)) { ops in
      var xa = XArray<Int>()
      var model = ReferenceModel()
      var failure: String?
      for (n, x) in ops.enumerated() {
        if let f = step(x, &xa, &model) {
          failure = "op \(n): \(f)"
          break
        }
        if n % 50 == 0, let f = compare(xa, model) {
          failure = "after op \(n): \(f)"
          break
        }
      }
      if failure == nil { failure = compare(xa, model) }
      #expect(failure == nil)
    }
  }

  @Test("copies are independent (copy-on-write)")
  func copyOnWrite() async {
    await propertyCheck(count: 50, input: Gen.uint64().array(of: 1...300)) { ops in
      var a = XArray<Int>()
      var model = ReferenceModel()
      for x in ops.prefix(ops.count / 2) { _ = step(x, &a, &model) }
      let snapshot = a
      let snapModel = model
      var b = a
      var bModel = model
      for x in ops.dropFirst(ops.count / 2) { _ = step(x, &b, &bModel) }
      #expect(compare(snapshot, snapModel) == nil)
      #expect(compare(a, snapModel) == nil)
      #expect(compare(b, bModel) == nil)
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import XArray

/// The reference model: a dictionary of entries keyed by first index, every
/// query answered by a linear scan. Slow and obviously right.
struct ReferenceModel {
  struct Entry: Equatable {
    var order: Int
    var value: Int
    var marks: UInt8
    func last(_ s: UInt64) -> UInt64 { order >= 64 ? .max : s | ((1 << UInt64(order)) - 1) }
  }
  var entries: [UInt64: Entry] = [:]

  func covering(_ i: UInt64) -> UInt64? {
    entries.first { s, e in s <= i && i <= e.last(s) }?.key
  }
  func load(_ i: UInt64) -> Int? { covering(i).map { entries[$0]!.value } }
  mutating func store(_ v: Int, _ i: UInt64) -> Int? {
    if let s = covering(i) {
      let old = entries[s]!.value
      entries[s]!.value = v
      return old
    }
    entries[i] = Entry(order: 0, value: v, marks: 0)
    return nil
  }
  mutating func erase(_ i: UInt64) -> Int? {
    guard let s = covering(i) else { return nil }
    return entries.removeValue(forKey: s)?.value
  }
  mutating func store(_ v: Int, order: Int, _ i: UInt64) {
    let mask: UInt64 = order >= 64 ? .max : (1 << UInt64(order)) - 1
    let first = i & ~mask
    let last = first | mask
    for (s, e) in entries where s <= last && e.last(s) >= first { entries[s] = nil }
    entries[first] = Entry(order: order, value: v, marks: 0)
  }
  mutating func mark(_ m: Int, _ i: UInt64, _ on: Bool) -> Bool {
    guard let s = covering(i) else { return false }
    if on { entries[s]!.marks |= 1 << m } else { entries[s]!.marks &= ~(1 << m) }
    return true
  }
  func marks(_ i: UInt64) -> UInt8? { covering(i).map { entries[$0]!.marks } }
  func firstIndex(_ a: UInt64, _ m: Int?) -> UInt64? {
    entries.filter { s, e in e.last(s) >= a && (m.map { e.marks & (1 << $0) != 0 } ?? true) }
      .map { s, _ in Swift.max(s, a) }.min()
  }
  func lastIndex(_ b: UInt64, _ m: Int?) -> UInt64? {
    entries.filter { s, e in s <= b && (m.map { e.marks & (1 << $0) != 0 } ?? true) }
      .map { s, e in Swift.min(e.last(s), b) }.max()
  }
  func firstFree(_ a: UInt64, _ b: UInt64) -> UInt64? {
    var c = a
    while true {
      guard let s = covering(c) else { return c }
      let l = entries[s]!.last(s)
      if l >= b { return nil }
      c = l + 1
    }
  }
  var sorted: [(UInt64, Entry)] { entries.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
}

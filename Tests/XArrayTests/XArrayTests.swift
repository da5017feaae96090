// SPDX-License-Identifier: Apache-2.0
import Testing
import XArray

@Suite("XArray")
struct XArrayTests {
  @Test("store, load, erase, replace")
  func basics() {
    var x = XArray<String>()
    #expect(x.isEmpty)
    let s1 = x.store("a", at: 5)
    let s2 = x.store("b", at: 5)
    #expect(s1 == nil && s2 == "a")
    x[1 << 40] = "far"
    x[.max] = "top"
    #expect(x[5] == "b")
    #expect(x[1 << 40] == "far")
    #expect(x[.max] == "top")
    #expect(x[6] == nil)
    #expect(x.count == 3)
    let e1 = x.erase(at: 5)
    let e2 = x.erase(at: 5)
    #expect(e1 == "b" && e2 == nil)
    x[1 << 40] = nil
    #expect(Array(x).map(\.index) == [.max])
    x._checkInvariants()
  }

  @Test("insert-if-absent and compare-exchange")
  func insertAndCmpxchg() {
    var x = XArray<Int>()
    let i1 = x.insert(1, at: 10)
    let i2 = x.insert(2, at: 10)
    #expect(i1 && !i2)
    let c1 = x.compareExchange(at: 10, expected: 2, desired: 3)
    #expect(c1 == (false, 1))
    let c2 = x.compareExchange(at: 10, expected: 1, desired: 3)
    #expect(c2 == (true, 1))
    let c3 = x.compareExchange(at: 11, expected: nil, desired: 7)
    #expect(c3 == (true, nil))
    let c4 = x.compareExchange(at: 11, expected: 7, desired: nil)
    #expect(c4 == (true, 7))
    #expect(x[10] == 3 && x[11] == nil)
  }

  /// Kinds: dense, PFN-like, random 48-bit, and random 36-bit keys, whose
  /// buckets sit below branches that span several 2^32 regions (narrow
  /// buckets must not cross them).
  @Test("dense, PFN-like and random keys match a Dictionary", arguments: [0, 1, 2, 3])
  func bulk(kind: Int) {
    var rng = SplitMix(seed: UInt64(kind) + 1)
    let n = 60_000
    var keys: [UInt64] = []
    switch kind {
    case 0: keys = (0..<UInt64(n)).map { $0 }
    case 1:
      keys = (0..<UInt64(4 * n)).filter { _ in rng.next() % 4 == 0 }
    case 2: keys = (0..<n).map { _ in rng.next() & 0xffff_ffff_ffff }
    default: keys = (0..<n).map { _ in rng.next() & 0xf_ffff_ffff }
    }
    var x = XArray<UInt64>()
    var d: [UInt64: UInt64] = [:]
    for k in keys.shuffled(using: &rng) {
      x[k] = k &* 3
      d[k] = k &* 3
    }
    x._checkInvariants()
    #expect(x.count == d.count)
    #expect(keys.allSatisfy { x[$0] == $0 &* 3 })
    let sorted = d.sorted { $0.key < $1.key }
    #expect(Array(x).elementsEqual(sorted) { $0.index == $1.key && $0.element == $1.value })
    #expect(
      Array(x.entries(from: keys[7])).elementsEqual(sorted.drop { $0.key < keys[7] }) {
        $0.index == $1.key && $0.element == $1.value
      })
    let perEntry = Double(x.memoryUsed) / Double(x.count)
    #expect(perEntry < [9.4, 20, 26, 17][kind])
    // Marks on every third key: marked iteration and the summaries agree.
    let marked = Set(keys.filter { $0 % 3 == 0 })
    var setCount = 0
    for k in marked where x.setMark(.mark1, at: k) { setCount += 1 }
    #expect(setCount == marked.count)
    x._checkInvariants()
    #expect(Array(x.entries(marked: .mark1).map(\.index)) == marked.sorted())
    #expect(x.nextIndex(after: 0, marked: .mark1) == marked.filter { $0 > 0 }.min())
    for k in marked where k % 2 == 0 { x.clearMark(.mark1, at: k) }
    x._checkInvariants()
    #expect(Array(x.entries(marked: .mark1).map(\.index)) == marked.filter { $0 % 2 == 1 }.sorted())
    // Erase half, check, erase the rest.
    var erased = 0
    for (i, k) in keys.enumerated() where i % 2 == 0 { if x.erase(at: k) == k &* 3 { erased += 1 } }
    x._checkInvariants()
    #expect(erased == (keys.count + 1) / 2)
    #expect(x.count == keys.count / 2)
    for (i, k) in keys.enumerated() where i % 2 == 1 { x[k] = nil }
    x._checkInvariants()
    #expect(x.isEmpty)
    #expect(x.memoryUsed < 100)
  }

  /// Keys inserted in ascending order: a block next to a filled leaf
  /// starts as a leaf itself. Kinds: dense; PFN-like; and groups of one
  /// dense block, a key stored and erased in the next block (which leaves
  /// the rest of the branch empty) and one key in each further block, where
  /// a one-key leaf must not seed the next (each costs 112 bytes).
  /// Every bucket size, narrow and wide: lookups of each key and of the
  /// keys just beside it, after inserting in an order that puts each new
  /// key at every position of the sorted bucket.
  @Test("bucket search at every size and position", arguments: [UInt64(1000), 1 << 33])
  func bucketSearch(gap: UInt64) {
    for n in 1...64 {
      var x = XArray<UInt64>()
      // Odd multiples first, then even ones, so later keys land between
      // earlier ones as well as after them.
      let order = Array(stride(from: 1, through: n, by: 2)) + Array(stride(from: 2, through: n, by: 2))
      for (done, i) in order.enumerated() {
        x[UInt64(i) * gap] = UInt64(i)
        #expect(x.count == done + 1)
      }
      for i in 1...n {
        let k = UInt64(i) * gap
        #expect(x[k] == UInt64(i), "n=\(n) key \(k)")
        #expect(x[k - 1] == nil && x[k + 1] == nil, "n=\(n) beside key \(k)")
        #expect(x.nextIndex(after: k) == (i < n ? k + gap : nil), "n=\(n) after \(k)")
      }
      #expect(x[0] == nil && x[UInt64(n + 1) * gap] == nil)
      #expect(x.map(\.index) == (1...n).map { UInt64($0) * gap })
      x._checkInvariants()
    }
  }

  @Test("ascending keys: leaves start beside filled leaves", arguments: [0, 1, 2])
  func ascending(kind: Int) {
    var rng = SplitMix(seed: UInt64(kind) + 11)
    var x = XArray<UInt64>()
    var keys: [UInt64] = []
    func add(_ k: UInt64) {
      x[k] = k &+ 1
      keys.append(k)
    }
    switch kind {
    case 0: for k in UInt64(0)..<20_000 { add(k) }
    case 1: for k in UInt64(0)..<80_000 where rng.next() % 4 == 0 { add(k) }
    default:
      for g in UInt64(0)..<40 {
        for k in 0..<UInt64(64) { add(g * 4096 + k) }
        x[g * 4096 + 64] = 0
        x[g * 4096 + 64] = nil
        for b in 1..<UInt64(64) { add(g * 4096 + b * 64 + rng.next() % 64) }
      }
    }
    x._checkInvariants()
    #expect(x.count == keys.count)
    #expect(keys.allSatisfy { x[$0] == $0 &+ 1 })
    #expect(Array(x.map(\.index)) == keys)
    let perEntry = Double(x.memoryUsed) / Double(x.count)
    #expect(perEntry < [8.6, 11.2, 20][kind])
    for k in keys where k % 5 == 0 { x.setMark(.mark0, at: k) }
    x._checkInvariants()
    #expect(Array(x.entries(marked: .mark0).map(\.index)) == keys.filter { $0 % 5 == 0 })
    for k in keys.reversed() where k % 2 == 0 { x[k] = nil }
    x._checkInvariants()
    #expect(Array(x.map(\.index)) == keys.filter { $0 % 2 == 1 })
  }

  /// A leaf stores no capacity: it is always allocated at the growth step
  /// its count implies, shrinking as entries go and taking mark words only
  /// when an entry is first marked, so a leaf that lost entries costs what
  /// a leaf built with the rest costs.
  @Test("a leaf's size follows its count and its marks")
  func leafSizeFollowsCount() {
    var x = XArray<UInt64>()
    for k in UInt64(0)..<64 { x[k] = k }
    let full = x.memoryUsed
    var kept = Array(UInt64(0)..<64)
    var rng = SplitMix(seed: 5)
    while kept.count > 1 {
      let gone = kept.remove(at: Int(rng.next() % UInt64(kept.count)))
      x[gone] = nil
      x._checkInvariants()
      var y = XArray<UInt64>()
      for k in kept { y[k] = k }
      if kept.count >= 8 {
        #expect(x.memoryUsed == y.memoryUsed, "\(kept.count) entries")
        #expect(x._nodeCounts == (branches: 0, coarse: 0, leaves: 1, buckets: 0))
      }
      #expect(Array(x.map(\.index)) == kept)
    }
    // Marks: the first one moves the leaf to a node with mark words.
    var z = XArray<UInt64>()
    for k in UInt64(0)..<64 { z[k] = k }
    #expect(z.memoryUsed == full)
    z.setMark(.mark2, at: 17)
    #expect(z.memoryUsed == full + 32)
    z._checkInvariants()
    #expect(Array(z.entries(marked: .mark2).map(\.index)) == [17])
    #expect(z[17] == 17 && z[18] == 18)
    z.clearMark(.mark2, at: 17)
    #expect(z.entries(marked: .mark2).map(\.index).isEmpty)
    for k in UInt64(0)..<40 { z[k] = nil }
    z._checkInvariants()
    #expect(Array(z.map(\.index)) == Array(40..<64))
  }

  @Test("a bucket of one 64-key block becomes a leaf at block level only")
  func bucketBecomesLeaf() {
    // Root level: keys below 64, so the root bucket's one slot is a block.
    var x = XArray<UInt64>()
    let low: [UInt64] = [9, 3, 60, 17, 41, 0, 33, 58]
    for k in low.prefix(7) { x[k] = k }
    #expect(x._nodeCounts == (branches: 0, coarse: 0, leaves: 0, buckets: 1))
    x[low[7]] = low[7]
    #expect(x._nodeCounts == (branches: 0, coarse: 0, leaves: 1, buckets: 0))
    #expect(Array(x.map(\.index)) == low.sorted())

    // Below a shift-6 root: a full block 63 splits off as a leaf and
    // leaves block 0's seven keys in a bucket of slot 0.
    var y = XArray<UInt64>()
    let block0: [UInt64] = [5, 1, 62, 30, 12, 47, 20]
    for k in block0 { y[k] = k }
    for k in UInt64(63 * 64)..<(63 * 64 + 58) { y[k] = k }
    y._checkInvariants()
    #expect(y._nodeCounts == (branches: 1, coarse: 0, leaves: 1, buckets: 1))
    y[7] = 7
    #expect(y._nodeCounts == (branches: 1, coarse: 0, leaves: 2, buckets: 0))
    y._checkInvariants()
    #expect(y.count == 66)
    #expect((block0 + [7]).allSatisfy { y[$0] == $0 })

    // The same one level up: below a shift-12 root the bucket's slot
    // holds 64 blocks, so eight keys of block 0 stay a bucket.
    var z = XArray<UInt64>()
    for k in block0 { z[k] = k }
    for i in UInt64(0)..<58 { z[63 * 4096 + i * 64] = i }
    z._checkInvariants()
    #expect(z._nodeCounts == (branches: 1, coarse: 0, leaves: 0, buckets: 2))
    z[7] = 7
    #expect(z._nodeCounts == (branches: 1, coarse: 0, leaves: 0, buckets: 2))
    z._checkInvariants()
    #expect(Array(z.map(\.index).prefix(8)) == (block0 + [7]).sorted())
  }

  @Test("range entries")
  func ranges() {
    var x = XArray<String>()
    x[3] = "single"
    x.store("huge", order: 9, at: 0x234)  // 0x200...0x3ff
    #expect(x[0x200] == "huge" && x[0x3ff] == "huge" && x[0x400] == nil)
    #expect(x.range(at: 0x300) == 0x200...0x3ff)
    #expect(x.count == 2)
    x[0x250] = "HUGE"  // replaces the range's element
    #expect(x[0x3ff] == "HUGE")
    #expect(Array(x).map(\.index) == [3, 0x200])
    #expect(Array(x.entries(from: 0x300)).map(\.index) == [0x300])
    #expect(x.firstIndex(from: 4) == 0x200)
    #expect(x.lastIndex(through: 0x1000) == 0x3ff)
    #expect(x.firstFreeIndex(in: 0x200...0x500) == 0x400)
    x.store("cover", order: 12, at: 0)  // removes both
    #expect(x.count == 1 && x[3] == "cover")
    x.store("r", in: 5...20)
    #expect(x.allEntries.map(\.range) == [5...5, 6...7, 8...15, 16...19, 20...20])
    let e = x.erase(at: 9)
    #expect(e == "r")
    #expect(x[8] == nil && x[15] == nil && x[16] == "r")
    x._checkInvariants()
  }

  @Test("marks and marked iteration")
  func marks() {
    var x = XArray<Int>()
    for i in 0..<UInt64(5000) { x[i * 7] = Int(i) }
    let none = x.setMark(.mark1, at: 1)
    #expect(!none)
    for i in stride(from: UInt64(0), to: 5000, by: 100) { x.setMark(.mark1, at: i * 7) }
    x.setMark(.mark2, at: 7)
    #expect(x.isMarked(.mark1, at: 700) && !x.isMarked(.mark0, at: 700))
    #expect(Array(x.entries(marked: .mark1)).count == 50)
    #expect(x.firstIndex(from: 1, marked: .mark1) == 700)
    #expect(x.lastIndex(through: 699, marked: .mark1) == 0)
    #expect(x.nextIndex(after: 0, marked: .mark2) == 7)
    x.clearMark(.mark1, at: 700)
    #expect(x.firstIndex(from: 1, marked: .mark1) == 1400)
    x[700] = 5  // replacing keeps marks; erasing drops them
    x.erase(at: 1400)
    #expect(x.firstIndex(from: 1, marked: .mark1) == 2100)
    x.clearMark(.mark1)
    #expect(x.firstIndex(marked: .mark1) == nil)
    x._checkInvariants()
  }

  @Test("free index search and allocation")
  func allocation() {
    var x = XArray<Int>()
    for i in 0..<UInt64(200) where i != 150 { x[i] = 1 }
    #expect(x.firstFreeIndex(in: 0...1000) == 150)
    let a1 = x.allocate(9, in: 0...1000)
    let a2 = x.allocate(9, in: 0...199)
    let a3 = x.allocate(9, in: 0...1000)
    #expect(a1 == 150 && a2 == nil && a3 == 200)
    x[.max] = 0
    #expect(x.firstFreeIndex(in: UInt64.max...UInt64.max) == nil)
  }

  @Test("value semantics, equality, description")
  func valueSemantics() {
    var a = XArray<Int>()
    a[1] = 10
    a.store(20, order: 2, at: 8)
    a.setMark(.mark0, at: 1)
    var b = a
    #expect(a == b)
    b[1] = 11
    #expect(a[1] == 10 && b[1] == 11)
    #expect(a != b)
    #expect(a.description == "[1: 10 *0, 8...11: 20]")
    #expect(XArray<Int>().description == "[:]")
  }

  /// Random keys leave shift-30 branches whose buckets fill whole groups
  /// of four slots: those branches are coarse. Keys crowding one group
  /// split its bucket, which makes that branch full again (below the
  /// root, or as the root when the keys lie below 2^36). Contents, order,
  /// marks, copies and erasure are checked against a Dictionary.
  @Test("coarse branches: made, expanded, copied, marked, erased", arguments: [42, 36])
  func coarseBranches(windowBits: Int) {
    var rng = SplitMix(seed: UInt64(windowBits))
    let spread = windowBits == 42 ? 19_200 : 300
    var keys = (0..<spread).map { _ in rng.next() & ((1 << UInt64(windowBits)) - 1) }
    var x = XArray<UInt64>()
    var d: [UInt64: UInt64] = [:]
    func add(_ k: UInt64) {
      x[k] = k ^ 0x55
      d[k] = k ^ 0x55
    }
    for k in keys { add(k) }
    x._checkInvariants()
    let before = x._nodeCounts
    #expect(before.coarse == (windowBits == 42 ? 64 : 1))
    // 200 more keys in the first group of four slots of one shift-30
    // branch: slot 5 of the root, or the root itself.
    let base: UInt64 = windowBits == 42 ? 5 << 36 : 0
    let crowd = (0..<200).map { _ in base | (rng.next() & 0xffff_ffff) }
    let copy = x
    for k in crowd { add(k) }
    keys += crowd
    x._checkInvariants()
    #expect(x._nodeCounts.coarse == before.coarse - 1)
    #expect(copy._nodeCounts.coarse == before.coarse)
    let spreadSet = Set(keys.prefix(spread))
    #expect(copy.count == spreadSet.count)
    #expect(crowd.allSatisfy { copy[$0] == nil || spreadSet.contains($0) })
    #expect(x.count == d.count)
    #expect(keys.allSatisfy { x[$0] == $0 ^ 0x55 })
    let sorted = d.keys.sorted()
    #expect(Array(x.map(\.index)) == sorted)
    for probe in keys.prefix(50) {
      #expect(
        x.entries(reversedFrom: probe).prefix(3).map(\.index)
          == Array(sorted.filter { $0 <= probe }.suffix(3).reversed()))
      #expect(x.nextIndex(after: probe) == sorted.first { $0 > probe })
    }
    let marked = sorted.filter { $0 % 5 == 0 }
    var newlyMarked = 0
    for k in marked where x.setMark(.mark2, at: k) { newlyMarked += 1 }
    #expect(newlyMarked == marked.count)
    x._checkInvariants()
    #expect(Array(x.entries(marked: .mark2).map(\.index)) == marked)
    var erased = 0
    for (i, k) in sorted.enumerated() where i % 2 == 0 && x.erase(at: k) == k ^ 0x55 { erased += 1 }
    #expect(erased == (sorted.count + 1) / 2)
    x._checkInvariants()
    #expect(Array(x.map(\.index)) == sorted.enumerated().filter { $0.offset % 2 == 1 }.map(\.element))
    for k in sorted { x[k] = nil }
    x._checkInvariants()
    #expect(x.isEmpty && x.memoryUsed < 100)
    copy._checkInvariants()
    #expect(copy.count == spreadSet.count)
  }

  @Test("backward iteration from any index")
  func backward() {
    var x = XArray<Int>()
    for i in [1, 70, 4096, 1 << 33] as [UInt64] { x[i] = Int(i % 1000) }
    #expect(Array(x.entries(reversedFrom: 5000)).map(\.index) == [4096, 70, 1])
    #expect(x.previousIndex(before: 70) == 1)
    #expect(x.nextIndex(after: 4096) == 1 << 33)
  }
}

/// A small deterministic generator for tests.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

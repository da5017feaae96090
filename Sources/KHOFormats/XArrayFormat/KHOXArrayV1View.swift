// SPDX-License-Identifier: Apache-2.0
import KHOCore
import XArray

/// A zero-copy reader of a kho-xarray-v1 tree in captured memory.
///
///     let view = try KHOXArrayV1View(memory: image, root: root)
///     view.load(0x42)                  // the u64 at key 0x42, or nil
///     view.firstIndex(from: 0x43)      // the next present key
///
/// Opening validates every table pointer (page alignment, capture, each
/// page reached once, fixed depth, keys within 54 bits) and counts the
/// entries; see ``KHOXArrayReading``.
public final class KHOXArrayV1View: KHOXArrayReading, @unchecked Sendable {
  /// The memory read.
  public let memory: any PhysicalMemory
  /// The root table's address (zero for an empty tree).
  public let root: PhysAddr
  let shadow: _ShadowTree

  /// Opens the tree whose root table is at `root`.
  ///
  /// - Throws: `DecodeError` located at the table slot holding the bad
  ///   pointer: `.misaligned`, `.notCaptured`/`.crossesHole`, `.cycle`
  ///   (a table reached twice), `.outOfRange` (a key over 54 bits),
  ///   `.limitExceeded` (more tables than the index can name).
  public init(memory: any PhysicalMemory, root: PhysAddr, path: DecodePath = "/xarray")
    throws(DecodeError)
  {
    self.memory = memory
    self.root = root
    let g = memory.geometry
    let bits = KHOXArrayV1.tableBits(g)
    let s = _ShadowTree(leafBits: bits, nodeBits: bits, order: g.byteOrder)
    self.shadow = s
    guard !root.isZero else {
      s.freeze()
      return
    }
    var visited = Set<UInt64>()
    let top = KHOXArrayV1.depth(g) - 1
    s.root = try Self.walk(
      s, memory, root, level: top, prefix: 0, path: path, visited: &visited, from: nil)
    s.rootLevel = top
    Self.compress(s)
    s.freeze()
  }

  /// Validates the table at `addr` (level 0 = leaf) and indexes it.
  static func walk(
    _ s: _ShadowTree, _ memory: any PhysicalMemory, _ addr: PhysAddr, level: Int,
    prefix: UInt64, path: DecodePath, visited: inout Set<UInt64>, from slot: PhysAddr?
  ) throws(DecodeError) -> _ShadowRef {
    let g = memory.geometry
    guard addr.isPageAligned(g) else {
      throw DecodeError(
        .misaligned, "table pointer \(addr) is not page aligned", path: path, address: slot ?? addr)
    }
    guard visited.insert(addr.rawValue).inserted else {
      throw DecodeError(
        .cycle, "table \(addr) is reached twice (a cycle or a shared subtree)", path: path,
        address: slot ?? addr)
    }
    guard visited.count < 1 << 28 else {
      throw DecodeError(.limitExceeded, "more than 2^28 tables", path: path, address: addr)
    }
    let page = try memory.bytes(at: addr, count: g.pageSize, path: path)
    let base = _ShadowTree.base(page)
    let entries = g.pageSize / 8
    if level == 0 {
      let ref = s.addLeaf(.v1, values: page, meta: nil)
      for i in 0..<entries where s.load(base, i * 8) != 0 { s.count += 1 }
      return ref
    }
    let node = s.addNode()
    let id = node.id
    let slotBits = s.slotBits(level)
    for i in 0..<entries {
      let child = s.load(base, i * 8)
      if child == 0 { continue }
      let slotAddr = PhysAddr(addr.rawValue + UInt64(i * 8))
      let childPrefix = prefix << UInt64(s.nodeBits) | UInt64(i)
      if slotBits + 64 - UInt64(i).leadingZeroBitCount > KHOXArrayV1.keyWidth {
        throw DecodeError(
          .outOfRange, "slot \(i) of the root holds keys over 54 bits", path: path.index(i),
          address: slotAddr)
      }
      let r = try walk(
        s, memory, PhysAddr(child), level: level - 1, prefix: childPrefix, path: path.index(i),
        visited: &visited, from: slotAddr)
      s.children[(id << s.nodeBits) | i] = r
    }
    return node
  }

  /// Skips top tables that have a single child, so that lookups start low.
  static func compress(_ s: _ShadowTree) {
    while s.rootLevel > 0 && s.root.isNode {
      let id = s.root.id
      var only = -1
      for i in 0..<(1 << s.nodeBits) where !s.children[(id << s.nodeBits) | i].isEmpty {
        if only >= 0 { return }
        only = i
      }
      guard only >= 0 else { return }
      s.root = s.children[(id << s.nodeBits) | only]
      s.rootPrefix = s.rootPrefix << UInt64(s.nodeBits) | UInt64(only)
      s.rootLevel -= 1
    }
  }

  public var count: Int { shadow.count }

  @inlinable public func load(_ index: UInt64) -> UInt64? { _load(index) }
  @usableFromInline func _load(_ index: UInt64) -> UInt64? { shadow.value(at: index) }

  public func firstIndex(from index: UInt64, marked mark: XArrayMark? = nil) -> UInt64? {
    shadow.firstIndex(from: index, marked: mark)
  }

  public func lastIndex(through index: UInt64, marked mark: XArrayMark? = nil) -> UInt64? {
    shadow.lastIndex(through: index, marked: mark)
  }

  public func entries(from index: UInt64 = 0, marked mark: XArrayMark? = nil) -> [XArrayEntry<UInt64>] {
    shadow.entries(from: index, marked: mark)
  }
}

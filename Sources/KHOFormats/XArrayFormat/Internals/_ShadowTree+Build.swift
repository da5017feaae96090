// SPDX-License-Identifier: Apache-2.0
import KHOCore

// Building: the openers (`KHOXArrayV1View`, `_V2Walker`) validate a node,
// leaf or range, add it here and write the reference they get back into
// their parent's slot of `children` (and `slotMarks`). `freeze()` ends
// building.

extension _ShadowTree {
  /// Adds an interior node with all slots empty; returns its reference.
  func addNode() -> _ShadowRef {
    let id = nodeCount
    nodeCount += 1
    children.append(contentsOf: repeatElement(.empty, count: 1 << nodeBits))
    slotMarks.append(contentsOf: repeatElement(0, count: 1 << nodeBits))
    return _ShadowRef(.node, id: id)
  }

  /// Adds a leaf over `bytes` (kept alive); returns its reference.
  func addLeaf(_ kind: _LeafKind, values: Bytes, meta: Bytes?) -> _ShadowRef {
    owners.append(values)
    var info = _LeafInfo(kind: kind, values: Self.base(values), meta: nil, rankBase: rankTable.count)
    if let meta {
      owners.append(meta)
      let m = Self.base(meta)
      info.meta = m
      var acc = 0
      for w in 0..<bitmapWords {
        let word = load(m, w * 8)
        rankTable.append(UInt16(truncatingIfNeeded: acc))
        presentTable.append(word)
        acc += word.nonzeroBitCount
      }
    }
    let id = leaves.count
    leaves.append(info)
    return _ShadowRef(.leaf, id: id)
  }

  /// Adds a list leaf of `count` entries over `keys`, `values` and the
  /// three mark bitmaps `marks` (kept alive), entry `i`'s index and value
  /// at `i * step` bytes into `keys` and `values`; returns its reference.
  func addList(keys: Bytes, values: Bytes, marks: Bytes, count: Int, step: Int) -> _ShadowRef {
    owners.append(contentsOf: [keys, values, marks])
    let k = Self.base(keys)
    let fenceBase = fences.count
    for i in stride(from: 0, to: count, by: _listRun) { fences.append(load(k, i * step)) }
    let id = leaves.count
    leaves.append(
      _LeafInfo(
        kind: .list, values: Self.base(values), meta: Self.base(marks), rankBase: 0, count: count,
        keys: k, fenceBase: fenceBase, step: step))
    return _ShadowRef(.leaf, id: id)
  }

  /// Adds a range entry; returns its reference (every slot it fills holds it).
  func addRange(_ r: _ShadowEntry) -> _ShadowRef {
    let id = ranges.count
    ranges.append(r)
    return _ShadowRef(.range, id: id)
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The shape of a radix tree as found by a walk.
///
/// Counts match the `memory_map` block of the kernel-image expected.json
/// files: table nodes per level (the root is level `depth - 1`), leaves,
/// and leaves with no bit set.
public struct RadixTreeStats: Hashable, Sendable, Codable {
  /// Levels including the leaf level (`KHO_TREE_MAX_DEPTH`).
  public var depth: Int
  /// Element `L` is the number of table nodes at level `L`; element 0 (the
  /// leaf level) is always 0.
  public var tableNodesByLevel: [Int]
  /// Leaves (level-0 bitmap pages) reached.
  public var leaves: Int = 0
  /// Leaves with no bit set (left by unpreserve).
  public var emptyLeaves: Int = 0
  /// Tables with no child.
  public var emptyTables: Int = 0
  /// Set leaf bits, including any that did not decode to a valid entry.
  public var setBits: Int = 0

  public init(depth: Int) {
    self.depth = depth
    self.tableNodesByLevel = Array(repeating: 0, count: Swift.max(depth, 1))
  }

  /// All table nodes, the root included.
  public var tableNodes: Int { tableNodesByLevel.reduce(0, +) }

  /// Table nodes plus leaves: the pages the tree occupies.
  public var nodes: Int { tableNodes + leaves }
}

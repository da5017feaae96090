// SPDX-License-Identifier: Apache-2.0
/// One of the three marks an `XArray` entry can carry (Linux's `XA_MARK_0`,
/// `XA_MARK_1`, `XA_MARK_2`).
///
/// Marks are flags on entries, searched quickly: `XArray` keeps a summary
/// of marked entries in every interior node, so `firstIndex(from:marked:)`
/// skips unmarked subtrees.
public struct XArrayMark: Hashable, Sendable, Codable, CustomStringConvertible {
  /// 0, 1 or 2.
  public let rawValue: Int

  /// Mark 0, 1 or 2; nil for anything else.
  public init?(rawValue: Int) {
    guard (0..<3).contains(rawValue) else { return nil }
    self.rawValue = rawValue
  }

  private init(_unchecked v: Int) { self.rawValue = v }

  /// Mark 0 (`XA_MARK_0`).
  public static let mark0 = XArrayMark(_unchecked: 0)
  /// Mark 1 (`XA_MARK_1`).
  public static let mark1 = XArrayMark(_unchecked: 1)
  /// Mark 2 (`XA_MARK_2`).
  public static let mark2 = XArrayMark(_unchecked: 2)
  /// The three marks, in order.
  public static let all: [XArrayMark] = [.mark0, .mark1, .mark2]

  public var description: String { "mark\(rawValue)" }
}

/// A set of marks, as one byte (bit n = mark n).
public struct XArrayMarks: OptionSet, Hashable, Sendable, Codable, CustomStringConvertible {
  public let rawValue: UInt8

  public init(rawValue: UInt8) { self.rawValue = rawValue & 7 }

  /// The set holding one mark.
  public init(_ mark: XArrayMark) { self.rawValue = 1 << UInt8(mark.rawValue) }

  public static let mark0 = XArrayMarks(rawValue: 1)
  public static let mark1 = XArrayMarks(rawValue: 2)
  public static let mark2 = XArrayMarks(rawValue: 4)

  /// Whether `mark` is in the set.
  public func contains(_ mark: XArrayMark) -> Bool { rawValue & (1 << UInt8(mark.rawValue)) != 0 }

  public var description: String {
    "[" + XArrayMark.all.filter { contains($0) }.map(\.description).joined(separator: ", ") + "]"
  }
}

/// One entry of an `XArray`: a single index or an aligned range of
/// `2^order` indices, with its element and marks.
public struct XArrayEntry<Element> {
  /// The first index the entry covers.
  public var index: UInt64
  /// The entry covers `2^order` indices (0 for a single index; at most 64).
  public var order: Int
  /// The stored element.
  public var element: Element
  /// The marks set on the entry.
  public var marks: XArrayMarks

  public init(index: UInt64, order: Int = 0, element: Element, marks: XArrayMarks = []) {
    self.index = index
    self.order = order
    self.element = element
    self.marks = marks
  }

  /// The last index the entry covers.
  public var lastIndex: UInt64 {
    order >= 64 ? .max : index | ((1 << UInt64(order)) &- 1)
  }

  /// The indices the entry covers.
  public var range: ClosedRange<UInt64> { index...lastIndex }
}

extension XArrayEntry: Equatable where Element: Equatable {}
extension XArrayEntry: Hashable where Element: Hashable {}
extension XArrayEntry: Sendable where Element: Sendable {}

/// The element of a range entry, with the range's size.
@frozen @usableFromInline
struct _RangeEntry<Element> {
  @usableFromInline var order: UInt8
  @usableFromInline var element: Element

  @inlinable init(order: UInt8, element: Element) {
    self.order = order
    self.element = element
  }

  /// The last index covered by a range starting at `start`.
  @inlinable func last(_ start: UInt64) -> UInt64 {
    order >= 64 ? .max : start | ((1 &<< UInt64(order)) &- 1)
  }
}

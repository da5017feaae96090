// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// What a lenient decode returns: the value it could read and every problem.
///
/// The strict form of a codec throws the first `DecodeError`; the lenient
/// form (`decodeReporting`) carries on past problems with a documented
/// recovery and returns this. At most ``maxProblems`` problems are kept;
/// the rest are only counted.
public struct DecodeOutcome<Value> {
  /// The most problems one outcome keeps.
  public static var maxProblems: Int { 1000 }

  /// What could be read; `nil` when nothing could.
  public var value: Value?
  /// The problems, in the order they were found.
  public var problems: [DecodeError]
  /// Problems found past ``maxProblems``, counted only.
  public var omittedProblems: Int

  public init(value: Value?, problems: [DecodeError] = [], omittedProblems: Int = 0) {
    self.value = value
    self.problems = problems
    self.omittedProblems = omittedProblems
  }

  /// Whether the value was read and nothing was wrong.
  public var isClean: Bool { value != nil && problems.isEmpty && omittedProblems == 0 }
}

extension DecodeOutcome: Sendable where Value: Sendable {}

extension DecodeOutcome {
  /// Packs `value` with what a lenient collector recorded.
  init(_ value: Value?, _ problems: DecodeProblems) {
    self.init(value: value, problems: problems.list, omittedProblems: problems.omitted)
  }

  /// Every problem, with one more saying how many were left out past the cap.
  public var allProblems: [DecodeError] {
    guard omittedProblems > 0 else { return problems }
    let more = DecodeError(
      .limitExceeded, "\(omittedProblems) more problems not listed", path: problems.last?.path ?? .root)
    return problems + [more]
  }

  /// Runs a decoder body in lenient mode and packs what it returned.
  static func collect(_ body: (inout DecodeProblems) throws(DecodeError) -> Value) -> DecodeOutcome {
    var problems = DecodeProblems(strict: false)
    do {
      return DecodeOutcome(try body(&problems), problems)
    } catch {
      problems.record(error)
      return DecodeOutcome(nil, problems)
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// Where a decoder sends the problems it finds.
///
/// A strict decoder throws the first problem; a lenient one records it and
/// carries on with a documented recovery (clamp a count, stop a chain,
/// skip an object), so that an inspector can show everything that is wrong
/// with a handover and everything that could still be read. Decoders share
/// one code path for both modes by calling ``report(_:)``. A lenient
/// collector keeps at most ``DecodeOutcome/maxProblems`` and counts the rest.
struct DecodeProblems: Sendable {
  /// Whether the first problem is thrown.
  let strict: Bool
  /// The problems recorded so far (lenient mode).
  private(set) var list: [DecodeError] = []
  /// Problems past the cap, counted only.
  private(set) var omitted = 0

  init(strict: Bool) { self.strict = strict }

  /// Throws `error` in strict mode; records it otherwise.
  mutating func report(_ error: DecodeError) throws(DecodeError) {
    if strict { throw error }
    record(error)
  }

  /// Records `error` without throwing (within the cap).
  mutating func record(_ error: DecodeError) {
    if list.count < DecodeOutcome<Void>.maxProblems { list.append(error) } else { omitted += 1 }
  }

  /// Records problems found by a nested lenient decoder (or throws the first).
  mutating func report(contentsOf errors: [DecodeError]) throws(DecodeError) {
    for e in errors { try report(e) }
  }
}

// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import KHOCore
import KHOFormats
import KHOInspect

// How every verb reports: problems (to stdout or stderr), JSON, and the
// enum-typed options several verbs share.

/// Prints problems, coloured by severity on a terminal.
func printProblems(_ problems: [Problem], toStdout: Bool) {
  for p in problems {
    let style: Terminal.Style = p.severity == .error ? .red : p.severity == .warning ? .yellow : .dim
    let line =
      Terminal.paint(p.severity.rawValue, style) + ": \(p.kind) at \(escapeText(p.path))"
      + (p.address.map { " (\($0))" } ?? "") + ": \(escapeText(p.message))"
    if toStdout { print(line) } else { Terminal.error(line) }
  }
}

/// Writes the first `limit` problems to standard error, then how many more there were.
func reportProblems(_ problems: [DecodeError], limit: Int = 20) {
  for p in problems.prefix(limit) {
    Terminal.error("khodump: \(escapeText(p.description))")
  }
  if problems.count > limit {
    Terminal.error("khodump: … and \(problems.count - limit) more problems")
  }
}

/// Writes `value` as pretty JSON with sorted keys on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  encoder.keyEncodingStrategy = .convertToSnakeCase
  let data = try encoder.encode(value)
  FileHandle.standardOutput.write(data)
  FileHandle.standardOutput.write(Data("\n".utf8))
}

/// The radix depth formula a kernel used (`--radix-depth`).
enum RadixDepthOption: String, ExpressibleByArgument, CaseIterable {
  case plusOne = "plus-one"
  /// 16 KiB-page kernels before the depth fix.
  case original

  var rule: RadixTree.DepthRule { self == .plusOne ? .plusOne : .original }
}

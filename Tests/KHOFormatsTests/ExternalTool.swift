// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Runs a standard tool of the field (dtc, fdtdump, fdtget) for differential tests.
enum ExternalTool {
  struct Result {
    var status: Int32
    var stdout: Data
    var stderr: String
    var text: String { String(decoding: stdout, as: UTF8.self) }
  }

  static func run(_ tool: String, _ arguments: [String], stdin: Data? = nil) throws -> Result {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [tool] + arguments
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Result(status: p.terminationStatus, stdout: o, stderr: String(decoding: e, as: UTF8.self))
  }

  /// A fresh temporary file path with `suffix`.
  static func temporaryPath(_ suffix: String) -> String {
    NSTemporaryDirectory() + "kho-test-" + UUID().uuidString + suffix
  }
}

/// A small deterministic generator (SplitMix64) so failures reproduce from a seed.
struct SeededRandom: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}

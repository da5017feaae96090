// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Runs the built `khodump` binary (it sits next to the test bundle).
enum KhodumpCLI {
  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static var binary: URL {
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    // Inside a .xctest bundle directory on some layouts.
    while dir.pathExtension == "xctest"
      || !FileManager.default.fileExists(atPath: dir.appendingPathComponent("khodump").path)
    {
      let up = dir.deletingLastPathComponent()
      if up == dir { break }
      dir = up
    }
    return dir.appendingPathComponent("khodump")
  }

  static func run(_ args: [String], environment: [String: String] = [:]) throws -> Result {
    let p = Process()
    p.executableURL = binary
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    p.environment = env
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Result(
      status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
      stderr: String(decoding: e, as: UTF8.self))
  }

  static let kernelImages = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/kernel-images")

  static func kernelImage(_ name: String) -> String { kernelImages.appendingPathComponent(name).path }
}

// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import KHOFormats
import Testing

@testable import KHOImage

/// Hostile input (issue 20, classes 2, 11 and 12): a debugfs copy is read
/// by what its blobs need, and nothing outside the copy is read.
@Suite("debugfs copies: links and sizes")
struct DebugfsLinkTests {
  /// A `kho/` copy with a kho-v4 root naming one 32-byte raw sub-blob `LUO`.
  func makeCopy() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kho-debugfs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
      at: dir.appendingPathComponent("sub_fdts"), withIntermediateDirectories: true)
    let root = DeviceTreeNode(
      "", properties: [.string("compatible", "kho-v4"), .u64("preserved-memory-map", 0x1_0000_0000, .little)],
      children: [
        DeviceTreeNode(
          "LUO", properties: [.u64("preserved-data", 0x1_0001_0000, .little), .u64("blob-size", 32, .little)])
      ])
    try Data(try FDTBuilder.build(root)).write(to: dir.appendingPathComponent("fdt"))
    return dir
  }

  @Test("a sub-blob that links outside the copy is refused, naming the link")
  func linkOutside() throws {
    let dir = try makeCopy()
    defer { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.createSymbolicLink(
      atPath: dir.appendingPathComponent("sub_fdts/LUO").path, withDestinationPath: "/etc/passwd")
    do {
      _ = try HandoverSource.open(dir.path)
      Issue.record("a link out of the copy was followed")
    } catch {
      #expect(error.kind == .unreadable)
      #expect(error.message.contains("sub_fdts/LUO is a link to /etc/passwd"))
    }
  }

  @Test("a link inside the copy is followed")
  func linkInside() throws {
    let dir = try makeCopy()
    defer { try? FileManager.default.removeItem(at: dir) }
    try Data(repeating: 7, count: 32).write(to: dir.appendingPathComponent("luo.bin"))
    try FileManager.default.createSymbolicLink(
      atPath: dir.appendingPathComponent("sub_fdts/LUO").path, withDestinationPath: "../luo.bin")
    let s = try HandoverSource.open(dir.path)
    #expect(try s.memory.bytes(at: 0x1_0001_0000, count: 32).array == [UInt8](repeating: 7, count: 32))
  }

  @Test("a symbolic-link loop is named")
  func loop() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kho-loop-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.createSymbolicLink(
      atPath: dir.appendingPathComponent("out").path, withDestinationPath: "out")
    do {
      _ = try HandoverSource.open(dir.path)
      Issue.record("a loop was accepted")
    } catch {
      #expect(error.message.contains("out in \(dir.path) is a symbolic-link loop"))
    }
  }

  @Test("a sub-blob file longer than its blob-size is read only as far as the blob, and reported")
  func oversize() throws {
    let dir = try makeCopy()
    defer { try? FileManager.default.removeItem(at: dir) }
    try Data(repeating: 1, count: 1 << 20).write(to: dir.appendingPathComponent("sub_fdts/LUO"))
    let s = try HandoverSource.open(dir.path)
    #expect(s.memory.capturedBytes == 32)
    #expect(s.loadProblems.map(\.kind) == [.inconsistent])
    #expect(s.loadProblems.first?.message.contains("1048576 bytes but holds a 32-byte blob") == true)
  }
}

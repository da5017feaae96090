// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import Testing

@testable import KHOImage

@Suite("zstd")
struct ZstdTests {
  /// Bytes that compress poorly, so frames hold many full output chunks.
  static func noise(_ n: Int, seed: UInt64) -> [UInt8] {
    var s = seed
    return (0..<n).map { _ in
      s = s &* 6364136223846793005 &+ 1442695040888963407
      return UInt8(truncatingIfNeeded: s >> 56)
    }
  }

  @Test("round trip at chunk boundaries and across frames")
  func roundTrip() throws {
    let chunk = 131_072  // ZSTD_DStreamOutSize() on this libzstd
    for n in [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 3 * chunk + 17, 1 << 20] {
      let data = Self.noise(n, seed: UInt64(n))
      let frame = try Zstd.compress(data)
      #expect(Zstd.isCompressed(Bytes(frame)))
      #expect(try Zstd.decompress(Bytes(frame), limit: n) == data, "size \(n)")
      // Two frames back to back decode to both payloads.
      let two = try Zstd.compress(Array(data.prefix(1000))) + frame
      #expect(try Zstd.decompress(Bytes(two), limit: n + 1000) == Array(data.prefix(1000)) + data)
    }
  }

  @Test("a limit, a cut frame and garbage are typed errors")
  func refusals() throws {
    let data = [UInt8](repeating: 7, count: 1 << 20)
    let frame = try Zstd.compress(data)
    do {
      _ = try Zstd.decompress(Bytes(frame), limit: (1 << 20) - 1)
      Issue.record("output over the limit decoded")
    } catch {
      #expect(error.kind == .limitExceeded)
    }
    do {
      _ = try Zstd.decompress(Bytes(Array(frame.dropLast(3))), limit: 1 << 21)
      Issue.record("a cut frame decoded")
    } catch {
      #expect(error.kind == .truncated)
    }
    do {
      _ = try Zstd.decompress(Bytes(Array(frame.prefix(4)) + [UInt8](repeating: 0xff, count: 64)), limit: 1 << 21)
      Issue.record("garbage decoded")
    } catch {
      #expect(error.kind == .badMagic)
    }
  }
}

/// Hostile input (issue 20, class 1): zstd bombs are refused early and never held in memory.
@Suite("zstd bombs")
struct ZstdBombTests {
  func temp(_ bytes: [UInt8]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bomb-\(UUID().uuidString).zst").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  @Test("a file of zero frames is refused at its first chunk: it is no image")
  func zeroFrames() throws {
    let frame = try Zstd.compress([UInt8](repeating: 0, count: 1 << 26))  // 64 MiB of zeros in a few KiB
    let path = try temp(frame + frame)
    defer { try? FileManager.default.removeItem(atPath: path) }
    do {
      _ = try HandoverSource.open(path)
      Issue.record("a bomb of zeros was opened")
    } catch {
      #expect(error.kind == .badMagic)
      #expect(error.message.contains("neither an ELF core, a kdump-compressed dump nor a DTB"))
    }
  }

  @Test("an ELF core followed by trailing zero frames is refused past the end its headers describe")
  func trailingFrames() throws {
    let image = PhysicalImage()
    image.store(UInt64(0x1234), at: 0x1000)
    let core = try ELFCoreWriter(notes: []).write(image)
    let path = try temp(try Zstd.compress(core) + (try Zstd.compress([UInt8](repeating: 0, count: 1 << 24))))
    defer { try? FileManager.default.removeItem(atPath: path) }
    do {
      _ = try ELFCore(path: path)
      Issue.record("trailing frames were accepted")
    } catch {
      #expect(error.kind == .limitExceeded)
      #expect(error.message.contains("its own headers describe"))
    }
    // The core alone opens, from a sparse temporary file.
    let ok = try temp(try Zstd.compress(core))
    defer { try? FileManager.default.removeItem(atPath: ok) }
    #expect(try ELFCore(path: ok).u64(at: 0x1000) == 0x1234)
  }
}

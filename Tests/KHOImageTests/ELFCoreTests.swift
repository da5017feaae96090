// SPDX-License-Identifier: Apache-2.0
import Foundation
import KHOCore
import KHOFormats
import Testing

@testable import KHOImage

/// Paths of the handover images written by the kernel's own code.
enum KernelImages {
  static let directory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/kernel-images")

  static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  static func expected(_ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: directory.appendingPathComponent(name + ".expected.json"))
    return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
  }
}

@Suite("ELF cores")
struct ELFCoreTests {
  @Test("the kernel's kho-v2 image opens and its root FDT is where expected.json says")
  func kernelImageRoot() throws {
    let core = try ELFCore(path: KernelImages.path("kho-v2-radix.elf"))
    let expected = try KernelImages.expected("kho-v2-radix")
    #expect(core.geometry == .x86_64)
    #expect(core.machine == 62)
    #expect(core.vmcoreinfo["PAGESIZE"] == "4096")
    let rootPhys = try #require(expected["root_fdt_phys"] as? UInt64)
    let page = try core.bytes(at: PhysAddr(rootPhys), count: 4096)
    let fdt = try FDT(parsing: page, allowTrailingBytes: true)
    #expect(fdt.root.property("compatible")?.string == "kho-v2")
    #expect(Int(fdt.header.totalSize) == expected["root_fdt_totalsize"] as? Int)
    let dtb = try Data(contentsOf: URL(fileURLWithPath: KernelImages.path("kho-v2-radix.dtb")))
    #expect(page.extracting(0, count: dtb.count)?.array == Array(dtb))
  }

  @Test("the zstd-compressed kho-v4 image opens through InputFile")
  func compressedImage() throws {
    let core = try ELFCore(path: KernelImages.path("kho-v4-luo-v4.elf.zst"))
    let expected = try KernelImages.expected("kho-v4-luo-v4")
    let rootPhys = try #require(expected["root_fdt_phys"] as? UInt64)
    let fdt = try FDT(parsing: try core.bytes(at: PhysAddr(rootPhys), count: 4096), allowTrailingBytes: true)
    #expect(fdt.root.property("compatible")?.string == "kho-v4")
    #expect(fdt.root.children.map(\.name) == ["memblock", "LUO", "kexec-metadata"])
  }

  @Test("uncaptured addresses and holes are typed errors")
  func holes() throws {
    let core = try ELFCore(path: KernelImages.path("kho-v2-radix.elf"))
    #expect(throws: DecodeError.self) { try core.bytes(at: 0x10, count: 8) }
    do {
      _ = try core.bytes(at: 0x10, count: 8)
    } catch {
      #expect(error.kind == .notCaptured)
    }
    let last = try #require(core.segments.last)
    do {
      _ = try core.bytes(at: PhysAddr(last.end - 4), count: 8)
      Issue.record("read across the end of the last segment succeeded")
    } catch {
      #expect(error.kind == .crossesHole)
    }
  }

  @Test("writer and reader round-trip an image, in both byte orders")
  func roundTrip() throws {
    for order in ByteOrder.allCases {
      let g = try #require(PageGeometry(pageShift: 12, byteOrder: order))
      let image = PhysicalImage(geometry: g)
      image.write(Array(0..<200).map { UInt8($0) }, at: 0x2000_0ff0)
      image.store(UInt64(0x1122_3344_5566_7788), at: 0x7000_0000)
      let note = ELFNote(name: "VMCOREINFO", type: 0, descriptor: Array("PAGESIZE=4096\n".utf8))
      let file = try ELFCoreWriter(notes: [note]).write(image)
      let core = try ELFCore(bytes: Bytes(file))
      #expect(core.segments == image.segments)
      #expect(core.geometry == g)
      #expect(try core.bytes(at: 0x2000_0ff0, count: 200).array == Array(0..<200).map { UInt8($0) })
      #expect(try core.u64(at: 0x7000_0000) == 0x1122_3344_5566_7788)
    }
  }

  @Test(
    "malformed headers are refused with located errors",
    arguments: [
      ([UInt8](repeating: 0, count: 10), DecodeError.Kind.truncated),
      ([UInt8](repeating: 0, count: 64), .badMagic),
      ([0x7f, 0x45, 0x4c, 0x46, 1, 1] + [UInt8](repeating: 0, count: 58), .unsupported),
    ])
  func malformed(input: [UInt8], kind: DecodeError.Kind) {
    do {
      _ = try ELFCore(bytes: Bytes(input))
      Issue.record("accepted malformed ELF")
    } catch {
      #expect(error.kind == kind)
    }
  }

  @Test("program headers pointing past the file are refused")
  func truncatedSegments() throws {
    let image = PhysicalImage()
    image.write([1, 2, 3], at: 0x1000)
    var file = try ELFCoreWriter().write(image)
    file.removeLast(100)
    do {
      _ = try ELFCore(bytes: Bytes(file))
      Issue.record("accepted a truncated core")
    } catch {
      #expect(error.kind == .truncated)
      #expect(error.path.description.hasPrefix("/elf/phdr["))
    }
  }

  @Test("a root scan reaches a segment in the last page of the address space")
  func scanAtTopOfAddressSpace() throws {
    // A fuzzer-found trap: stepping from the last page to the next wrapped.
    let dtb = try FDTBuilder.build(DeviceTreeNode("", properties: [.string("compatible", "kho-v4")]))
    let image = PhysicalImage()
    image.write(dtb, at: 0x1000)
    var file = try ELFCoreWriter().write(image)
    let top: UInt64 = 0xffff_ffff_ffff_f000
    let phoff = Int(file[32])
    let load = try #require((0..<3).map { phoff + 56 * $0 }.first { file[$0] == 1 })
    // Move the segment to the last page and trim it to the DTB.
    for b in 0..<8 {
      file[load + 24 + b] = UInt8(truncatingIfNeeded: top >> UInt64(8 * b))
      file[load + 32 + b] = UInt8(truncatingIfNeeded: UInt64(dtb.count) >> UInt64(8 * b))
    }
    let source = try HandoverSource.open(bytes: Bytes(file), name: "top")
    #expect(source.candidates.map(\.address) == [PhysAddr(top)])
    #expect(source.rootAddress == PhysAddr(top))
    #expect(try source.rootFDT().root.property("compatible")?.string == "kho-v4")
  }
}

/// Hostile input (issue 20, class 7): a VMCOREINFO PAGESIZE the toolkit cannot read is refused, not replaced by 4096.
@Suite("VMCOREINFO PAGESIZE")
struct PageSizeNoteTests {
  @Test(
    "an invalid PAGESIZE is refused naming the value",
    arguments: ["0", "3", "8192", "1099511627776", "-4096", "", "99999999999999999999999"])
  func invalid(value: String) throws {
    let image = PhysicalImage()
    image.store(UInt64(1), at: 0x1000)
    let note = ELFNote(name: "VMCOREINFO", type: 0, descriptor: Array("PAGESIZE=\(value)\n".utf8))
    let file = try ELFCoreWriter(notes: [note]).write(image)
    do {
      _ = try ELFCore(bytes: Bytes(file))
      Issue.record("PAGESIZE=\(value) accepted")
    } catch {
      #expect(error.kind == .unsupported)
      #expect(error.message.contains("PAGESIZE '\(value)'"))
    }
    // An explicit page size still opens it.
    #expect(try ELFCore(bytes: Bytes(file), geometry: .arm64_16K).geometry == .arm64_16K)
  }

  @Test("valid page sizes are taken", arguments: [4096, 16384, 65536])
  func valid(size: Int) throws {
    let g = try #require(PageGeometry(pageSize: size))
    let image = PhysicalImage(geometry: g)
    image.store(UInt64(1), at: 0x10000)
    let note = ELFNote(name: "VMCOREINFO", type: 0, descriptor: Array("PAGESIZE=\(size)\n".utf8))
    #expect(try ELFCore(bytes: Bytes(try ELFCoreWriter(notes: [note]).write(image))).geometry.pageSize == size)
  }
}

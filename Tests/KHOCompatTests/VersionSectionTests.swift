// SPDX-License-Identifier: Apache-2.0
import KHOCompat
import KHOCore
import Testing

@Suite(".liveupdate_versions section and ELF section table")
struct VersionSectionTests {
  let strings = ["luo-v5;block-v1", "memfd-v2;vmalloc-v1", "kvm_vm_luo_v1", "guest_memfd_luo_v1"]

  func kind(_ body: () throws(DecodeError) -> Void) -> DecodeError.Kind? {
    do { try body() } catch { return error.kind }
    return nil
  }

  @Test("reads the strings of a little- and a big-endian vmlinux", arguments: [ByteOrder.little, .big])
  func reads(order: ByteOrder) throws {
    let elf = TestELF.vmlinux(strings, order: order)
    #expect(try LiveupdateVersionsSection.read(vmlinux: Bytes(elf.bytes)) == strings)
    let table = try ELFSectionTable(bytes: Bytes(elf.bytes))
    #expect(table.order == order)
    #expect(table.sections.map(\.name) == ["", ".text", ".liveupdate_versions", ".shstrtab"])
  }

  @Test("the library's encoder writes what the hand-written builder writes")
  func encoder() throws {
    for order in [ByteOrder.little, .big] {
      #expect(try LiveupdateVersionsSection.encode(strings, order: order) == TestELF.section(strings, order: order))
    }
    #expect(throws: EncodeError.self) { try LiveupdateVersionsSection.encode(["a-v1", "a-v1"], order: .little) }
    #expect(throws: EncodeError.self) {
      try LiveupdateVersionsSection.encode([String(repeating: "x", count: 48)], order: .little)
    }
  }

  @Test("an empty catalogue is valid (header only)")
  func empty() throws {
    #expect(try LiveupdateVersionsSection.parse(Bytes(TestELF.section([])), order: .little) == [])
  }

  @Test("every malformed section field gives its own error")
  func malformedSection() {
    let good = TestELF.section(strings)
    func parse(_ b: [UInt8], address: UInt64 = 0) -> DecodeError.Kind? {
      kind { () throws(DecodeError) in
        _ = try LiveupdateVersionsSection.parse(Bytes(b), order: .little, address: address)
      }
    }
    #expect(parse(Array(good.prefix(7))) == .truncated)
    #expect(parse(TestELF.section(strings, magic: 0x5055_564c)) == .badMagic)
    #expect(parse(TestELF.section(strings, version: 2)) == .unknownVersion)
    #expect(parse(good + [0]) == .badCount)
    #expect(parse(good, address: 4) == .misaligned)
    var noNul = good
    for i in 8..<56 { noNul[i] = 0x61 }
    #expect(parse(noNul) == .badString)
    var junk = good
    junk[8 + 40] = 0x41
    #expect(parse(junk) == .badString)
    #expect(parse(TestELF.section(["luo-v5", ""])) == .badString)
    #expect(parse(TestELF.section(["luo v5"])) == .badString)
    #expect(parse(TestELF.section(["kho-v4;vmalloc-v1;radix-v1"])) == .badString)
    #expect(parse(TestELF.section(["luo-v5", "luo-v5"])) == .duplicate)
    var tooMany = TestELF.section([])
    tooMany += [UInt8](repeating: 0x61, count: 48 * (LiveupdateVersionsSection.maxEntries + 1))
    #expect(parse(tooMany) == .limitExceeded)
  }

  @Test("the error locates the bad entry in the file")
  func located() throws {
    var elf = TestELF.vmlinux(["luo-v5", "memfd-v1"])
    let entry1 = elf.dataOffsets[2] + 8 + 48
    elf.bytes[entry1 + 47] = 0x41  // junk in entry 1's padding
    do {
      _ = try LiveupdateVersionsSection.read(vmlinux: Bytes(elf.bytes))
      Issue.record("accepted")
    } catch {
      #expect(error.kind == .badString)
      #expect(error.offset == entry1 + 47)
      #expect(error.message == "entry 1 has a non-zero byte after its NUL (padding must be zero)")
      #expect(error.path == "/elf/.liveupdate_versions")
    }
  }

  @Test("every malformed ELF field gives its own error")
  func malformedELF() {
    let elf = TestELF.vmlinux(strings)
    func read(_ edit: (inout [UInt8]) -> Void) -> DecodeError.Kind? {
      var b = elf.bytes
      edit(&b)
      return kind { () throws(DecodeError) in _ = try LiveupdateVersionsSection.read(vmlinux: Bytes(b)) }
    }
    func put(_ v: UInt64, _ size: Int, _ at: Int, _ b: inout [UInt8]) {
      TestELF.put(v, size: size, at: at, in: &b, order: .little)
    }
    #expect(read { $0 = Array($0.prefix(63)) } == .truncated)
    #expect(read { $0[0] = 0x7e } == .badMagic)
    #expect(read { $0[4] = 1 } == .unsupported)
    #expect(read { $0[5] = 3 } == .badMagic)
    #expect(read { $0[6] = 2 } == .unknownVersion)
    #expect(read { put(4, 2, 16, &$0) } == .unsupported)  // ET_CORE
    #expect(read { put(9, 2, 16, &$0) } == .unsupported)
    #expect(read { put(0, 8, 40, &$0) } == .missing)
    #expect(read { put(40, 2, 58, &$0) } == .inconsistent)
    #expect(read { put(UInt64(elf.bytes.count), 8, 40, &$0) } == .truncated)
    #expect(read { put(0xffff_ffff_ffff_ff00, 8, 40, &$0) } == .truncated)
    #expect(read { put(200, 2, 60, &$0) } == .truncated)
    #expect(read { put(0, 2, 62, &$0) } == .missing)
    #expect(read { put(9, 2, 62, &$0) } == .outOfRange)
    let sec = elf.header(2)  // .liveupdate_versions
    #expect(read { put(1 << 20, 4, sec, &$0) } == .outOfRange)  // sh_name
    #expect(read { put(8, 4, sec + 4, &$0) } == .inconsistent)  // SHT_NOBITS
    #expect(read { put(UInt64(elf.bytes.count - 8), 8, sec + 24, &$0) } == .truncated)
    #expect(read { put(UInt64.max, 8, sec + 32, &$0) } == .truncated)
    #expect(read { put(0xffff_ffff_8200_0004, 8, sec + 16, &$0) } == .misaligned)
    let strtab = elf.header(elf.shstrndx)
    #expect(read { put(UInt64(elf.bytes.count), 8, strtab + 24, &$0) } == .truncated)
    // A name table whose last name has no NUL.
    #expect(
      read { b in
        let off = elf.dataOffsets[elf.shstrndx]
        let size = 1 + ".text".utf8.count + 1 + ".liveupdate_versions".utf8.count + 1 + ".shstrtab".utf8.count + 1
        put(UInt64(size - 1), 8, strtab + 32, &b)
        _ = off
      } == .badString)
  }

  @Test("extended section numbering (e_shnum = 0, e_shstrndx = SHN_XINDEX) is followed")
  func extended() throws {
    var elf = TestELF.vmlinux(strings)
    let n = UInt64(elf.shstrndx + 1)
    TestELF.put(0, size: 2, at: 60, in: &elf.bytes, order: .little)
    TestELF.put(0xffff, size: 2, at: 62, in: &elf.bytes, order: .little)
    TestELF.put(n, size: 8, at: elf.header(0) + 32, in: &elf.bytes, order: .little)
    TestELF.put(UInt64(elf.shstrndx), size: 4, at: elf.header(0) + 40, in: &elf.bytes, order: .little)
    #expect(try LiveupdateVersionsSection.read(vmlinux: Bytes(elf.bytes)) == strings)
  }

  @Test("a file without the section, or with two, is refused")
  func missingOrDuplicate() {
    let none = TestELF.build([TestELF.Section(name: ".text", data: [0xc3])])
    #expect(
      kind { () throws(DecodeError) in _ = try LiveupdateVersionsSection.read(vmlinux: Bytes(none.bytes)) } == .missing)
    let sec = TestELF.section(["luo-v1"])
    let two = TestELF.build([
      TestELF.Section(name: ".liveupdate_versions", data: sec),
      TestELF.Section(name: ".liveupdate_versions", data: sec),
    ])
    #expect(
      kind { () throws(DecodeError) in _ = try LiveupdateVersionsSection.read(vmlinux: Bytes(two.bytes)) } == .duplicate
    )
  }

  @Test("a vmlinux manifest: each string read and written, scope liveupdate-versions")
  func manifest() throws {
    let elf = TestELF.vmlinux(strings + ["foo-v3"])
    let m = CapabilityManifest.fromVersionSection(
      try LiveupdateVersionsSection.read(vmlinux: Bytes(elf.bytes)), name: "vmlinux")
    #expect(m.scope == .liveupdateVersions)
    #expect(m.capability(.luo).read == ["luo-v5;block-v1"])
    #expect(m.capability(.memfd).write == ["memfd-v2;vmalloc-v1"])
    #expect(m.capability("kvm_vm_luo").read == ["kvm_vm_luo_v1"])
    #expect(m.capability("foo").write == ["foo-v3"])
    #expect(m.observations == ["'foo-v3' is not in the registry (unknown parts: foo-v3)"])
    #expect(m.covers("pci") == false)  // FLBs are not in the section
    #expect(m.covers(.kho) == false)
    #expect(m.covers("vfio-pci") == true)  // a file handler: absent means unsupported
    #expect((try? m.validate()) != nil)
  }
}

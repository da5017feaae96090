// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import KHOCompat

@Suite("Compatible strings")
struct CompatibleStringTests {
  @Test("error messages show a string printable and bounded")
  func shownEscapesAndCuts() {
    #expect(CompatibleString.shown("luo-v1") == "luo-v1")
    #expect(
      CompatibleString.shown("a\u{1b}[31m\n\u{0}\u{7f}é\u{10ffff}")
        == "a\\u{1b}[31m\\u{a}\\u{0}\\u{7f}\\u{e9}\\u{10ffff}")
    let long = String(repeating: "x", count: 64)
    #expect(CompatibleString.shown(long) == long)
    #expect(CompatibleString.shown(long + "y") == long + "…")
    #expect(CompatibleString.shown("") == "")
  }

  @Test("the RFC composites split into base and alphabetically ordered sub-components")
  func composites() throws {
    let k = try CompatibleString(parsing: "kho-v4;radix-v1;vmalloc-v1")
    #expect(k.base.family == "kho")
    #expect(k.base.version == 4)
    #expect(k.subComponents.map(\.text) == ["radix-v1", "vmalloc-v1"])
    #expect(k.isComposite)
    let l = try CompatibleString(parsing: "luo-v5;block-v1")
    #expect(l.base.text == "luo-v5")  // the base does not take part in the ordering
    #expect(l.subComponents.map(\.family) == ["block"])
    let m = try CompatibleString(parsing: "memfd-v2;vmalloc-v1")
    #expect(m.subComponents.first?.version == 1)
  }

  @Test("families and versions, including underscore forms and unversioned names")
  func families() throws {
    let kvm = try CompatibleString(parsing: "kvm_vm_luo_v1")
    #expect(kvm.base.family == "kvm_vm_luo" && kvm.base.version == 1)
    let h = try CompatibleString(parsing: "hugetlb")
    #expect(h.base.family == "hugetlb" && h.base.version == nil)
    let t = try CompatibleString(parsing: "liveupdate-test-flb-v12")
    #expect(t.base.family == "liveupdate-test-flb" && t.base.version == 12)
    #expect(try CompatibleString(parsing: "v1").base.version == nil)  // nothing before "-v"
  }

  @Test(
    "malformed strings are refused with a typed error",
    arguments: [
      ("", CompatError.Kind.empty),
      ("kho-v4;", .emptyPart),
      (";kho-v4", .emptyPart),
      ("kho-v4;;radix-v1", .emptyPart),
      ("kho v4", .badCharacter),
      ("kho-v4\u{0}", .badCharacter),
      ("kho-v4;vmalloc-v1;radix-v1", .subComponentOrder),
      ("kho-v4;radix-v1;radix-v1", .duplicateSubComponent),
      ("luo-v5;luo-v4", .duplicateSubComponent),
      ("kho-v4;block-v1;block-v2", .duplicateSubComponent),
      ("é-v1", .badCharacter),
    ])
  func malformed(text: String, kind: CompatError.Kind) {
    #expect(throws: CompatError.self) { try CompatibleString(parsing: text) }
    do { _ = try CompatibleString(parsing: text) } catch { #expect(error.kind == kind) }
  }

  @Test("a 48-byte field holds 47 characters")
  func fieldLength() throws {
    let s47 = String(repeating: "a", count: 45) + "v1"
    #expect((try? CompatibleString(parsing: s47, maxLength: CompatibleString.fieldMaxLength)) != nil)
    do {
      _ = try CompatibleString(parsing: s47 + "x", maxLength: CompatibleString.fieldMaxLength)
      Issue.record("48 characters accepted")
    } catch { #expect(error.kind == .tooLong) }
  }

  @Test("composite() sorts sub-components as the RFC requires")
  func build() throws {
    #expect(
      try CompatibleString.composite("kho-v4", ["vmalloc-v1", "radix-v1"]).rawValue == "kho-v4;radix-v1;vmalloc-v1")
  }

  @Test("the error for a bad character says where")
  func located() {
    do { _ = try CompatibleString(parsing: "memfd-v1 ") } catch {
      #expect(error.index == 8)
      #expect(error.description.contains("0x20"))
    }
  }
}

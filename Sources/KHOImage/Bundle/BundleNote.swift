// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The ELF note that marks a toolkit bundle and says how to read it.
///
/// Name `KHO-TOOLKIT`, type 1, descriptor: `KEY=value` lines —
/// `ROOT` (root FDT physical address, hex), `PAGESIZE`, `BYTEORDER`
/// (`little`/`big`), `SOURCE` (what the bundle was cut from), `TOOL`
/// (toolkit version). A `VMCOREINFO`-style `PAGESIZE` lets other tools read
/// the page size too. See Specs/bundle.md.
public struct BundleNote: Hashable, Sendable {
  public static let noteName = "KHO-TOOLKIT"
  public static let noteType: UInt32 = 1
  public static let toolVersion = "khodump 0.1.0"

  public var root: PhysAddr
  public var geometry: PageGeometry
  public var source: String
  public var tool: String

  public init(root: PhysAddr, geometry: PageGeometry, source: String, tool: String = toolVersion) {
    self.root = root
    self.geometry = geometry
    self.source = source
    self.tool = tool
  }

  /// The ELF note carrying this information.
  public var note: ELFNote {
    let text = """
      ROOT=\(root)
      PAGESIZE=\(geometry.pageSize)
      BYTEORDER=\(geometry.byteOrder.rawValue)
      SOURCE=\(source.replacingNewlines)
      TOOL=\(tool)

      """
    return ELFNote(name: Self.noteName, type: Self.noteType, descriptor: Array(text.utf8))
  }

  /// Reads the bundle note from a core's notes, if it has one.
  public init?(notes: [ELFNote]) {
    guard let n = notes.first(where: { $0.name == Self.noteName && $0.type == Self.noteType })
    else { return nil }
    let kv = n.keyValues
    guard let r = kv["ROOT"], let root = UInt64(r.hasPrefix("0x") ? String(r.dropFirst(2)) : r, radix: 16),
      let ps = kv["PAGESIZE"].flatMap({ Int($0) }),
      let order = kv["BYTEORDER"].flatMap({ ByteOrder(rawValue: $0) }),
      let g = PageGeometry(pageSize: ps, byteOrder: order)
    else { return nil }
    self.init(root: PhysAddr(root), geometry: g, source: kv["SOURCE"] ?? "", tool: kv["TOOL"] ?? "")
  }
}

extension String {
  fileprivate var replacingNewlines: String {
    String(map { $0 == "\n" ? " " : $0 })
  }
}

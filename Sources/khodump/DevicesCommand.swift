// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import KHOCore
import KHOFormats
import KHOInspect

/// `khodump devices IMAGE`: the PCI devices a handover keeps attached.
struct DevicesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "devices",
    abstract: "List the preserved PCI devices: VFIO state, IOMMU attachment and whether each stays working.",
    discussion: """
      One entry per device the PCI FLB (pci-v1, pci-v2, pci) preserves, as
      DDDD:BB:DD.F. Its VFIO state is the vfio-pci file naming the same
      device; its IOMMU attachment the IOMMU FLB's device object and the
      domain it points at, with the domain's page table walked (table pages,
      mapped IOVA ranges and bytes). A device is complete when no error
      touches it. Exit status 1 when a device is incomplete or a problem is
      found. JSON: {"devices": [{"bdf", "domain", "refcount", "pci_layout",
      "vfio": {...}, "iommu": {...}, "complete", "problems": [...]}],
      "problems": [...]} (Specs/khodump-json.md).
      """)

  @OptionGroup var image: ImageOptions

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func run() throws {
    let source = try image.open()
    let walker = HandoverWalker(source: source)
    let report = walker.walk()
    let inventory = DeviceInventory.build(walker.payloads, problems: report.problems)
    switch format {
    case .json: try printJSON(inventory)
    case .text: print(Self.text(inventory), terminator: "")
    }
    if inventory.devices.contains(where: { !$0.complete }) || !inventory.problems.isEmpty || report.hasProblems {
      throw ExitCode(1)
    }
  }

  static func text(_ inv: DeviceInventory) -> String {
    var out = inv.devices.isEmpty ? "no preserved PCI devices in this handover\n" : ""
    for d in inv.devices {
      let state = d.complete ? Terminal.paint("complete", .green) : Terminal.paint("INCOMPLETE", .red)
      out += "\(d.bdf)  refcount \(d.refcount)  \(d.pciLayout)  \(state)\n"
      var lines: [String] = []
      if let v = d.vfio {
        var s = "vfio \(v.layout)  session \(escapeText(v.session))  token 0x\(String(v.token, radix: 16))"
        if let r = v.resetWorks { s += r != 0 ? "  reset works" : "  no reset" }
        if let t = v.iommufdToken, t != 0 { s += "  iommufd token \(t)" }
        lines.append(s)
      } else {
        lines.append("vfio: none")
      }
      if let m = d.iommu {
        var s = "iommu \(m.layout)  domain \(m.domain)"
        if let top = m.topTable { s += "  table \(top)" }
        if let l = m.levels { s += "  \(l)-level" }
        if let space = m.iovaSpace { s += "  IOVA space \(formatBytes(space))" }
        if let b = m.mappedBytes {
          s += "  \(formatBytes(b)) mapped in \(m.mappedRanges ?? 0) range\(m.mappedRanges == 1 ? "" : "s")"
        }
        if m.incoming { s += "  (incoming)" }
        lines.append(s)
      } else {
        lines.append("iommu: not attached")
      }
      for p in d.problems {
        lines.append(
          "\(p.severity.rawValue): \(p.kind) at \(escapeText(p.path))\(p.address.map { " (\($0))" } ?? ""): \(escapeText(p.message))"
        )
      }
      for (i, l) in lines.enumerated() { out += (i == lines.count - 1 ? "└─ " : "├─ ") + l + "\n" }
    }
    for p in inv.problems {
      out +=
        "\(p.severity.rawValue): \(p.kind) at \(escapeText(p.path))\(p.address.map { " (\($0))" } ?? ""): \(escapeText(p.message))\n"
    }
    return out
  }
}

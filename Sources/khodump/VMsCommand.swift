// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import KHOCore
import KHOFormats
import KHOInspect

/// `khodump vms IMAGE`: the virtual machines a handover carries and whether
/// each comes back whole.
struct VMsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vms",
    abstract: "List the KVM virtual machines in a handover: memory, vCPUs, and whether each is complete.",
    discussion: """
      One entry per kvm_vm_luo_v1 file. Its memory is the guest_memfd files
      of the same session whose vm_token names it, its vCPUs the
      kvm_vcpu_luo_v1 files that do; the session's other files are listed
      apart. A VM is complete when no error touches it: a page it needs that
      is not preserved, a guest_memfd or vCPU whose VM token names nothing,
      a payload that does not decode, or a fault in the LUO state above it.
      Exit status 1 when a VM is incomplete or a problem is found.
      JSON: {"vms": [{"session", "token", "type", "layout", "data", "memory":
      [{"token", "compatible", "size", "flags", "nr_folios",
      "preserved_bytes"}], "vcpus": [{"token", "vcpu_id", "flags",
      "caretaker", "rip", "control_block"}], "other_files": [{"token",
      "compatible", "summary"}], "devices": ["DDDD:BB:DD.F"], "complete",
      "problems": [...]}],
      "problems": [...]} (Specs/khodump-json.md).
      """)

  @OptionGroup var image: ImageOptions

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func run() throws {
    let source = try image.open()
    let walker = HandoverWalker(source: source)
    let report = walker.walk()
    let inventory = VMInventory.build(walker.payloads, problems: report.problems, geometry: source.memory.geometry)
    switch format {
    case .json:
      try printJSON(inventory)
    case .text:
      print(Self.text(inventory), terminator: "")
    }
    if inventory.vms.contains(where: { !$0.complete }) || !inventory.problems.isEmpty || report.hasProblems {
      throw ExitCode(1)
    }
  }

  /// The tree printed for `--format text`.
  static func text(_ inv: VMInventory) -> String {
    var out = ""
    if inv.vms.isEmpty { out += "no KVM virtual machines in this handover\n" }
    for vm in inv.vms {
      let state = vm.complete ? Terminal.paint("complete", .green) : Terminal.paint("INCOMPLETE", .red)
      out +=
        "VM token 0x\(hex(vm.token))  session \(escapeText(vm.session))  type \(vm.type.map(String.init) ?? "?")"
        + "  layout \(vm.layout ?? "?")  \(state)\n"
      let memBytes = vm.memory.reduce(0) { $0 + $1.size }
      let kept = vm.memory.reduce(0) { $0 + $1.preservedBytes }
      var sections: [(String, [String])] = []
      sections.append(
        (
          "memory: \(vm.memory.count) guest_memfd\(vm.memory.count == 1 ? "" : "s"), \(formatBytes(memBytes)) (\(formatBytes(kept)) preserved)",
          vm.memory.map {
            "token 0x\(hex($0.token))  \(formatBytes($0.size))  \($0.nrFolios) folio\($0.nrFolios == 1 ? "" : "s")  \(formatBytes($0.preservedBytes)) preserved"
          }
        ))
      sections.append(
        (
          "vcpus: \(vm.vcpus.count)",
          vm.vcpus.map { c in
            var s = "vcpu \(c.vcpuId)  token 0x\(hex(c.token))"
            if let rip = c.rip { s += "  rip \(rip)" }
            if let cb = c.controlBlock { s += "  caretaker \(cb)" }
            return s
          }
        ))
      if !vm.devices.isEmpty {
        sections.append(("devices: \(vm.devices.count)", vm.devices))
      }
      if !vm.otherFiles.isEmpty {
        sections.append(
          (
            "other files: \(vm.otherFiles.count)",
            vm.otherFiles.map {
              "token 0x\(hex($0.token))  \(escapeText($0.compatible))"
                + ($0.summary.map { "  \(escapeText($0))" } ?? "")
            }
          ))
      }
      sections.append(
        (
          vm.problems.isEmpty ? "problems: none" : "problems: \(vm.problems.count)",
          vm.problems.map {
            "\($0.severity.rawValue): \($0.kind) at \(escapeText($0.path))\($0.address.map { " (\($0))" } ?? ""): \(escapeText($0.message))"
          }
        ))
      for (i, (title, lines)) in sections.enumerated() {
        let last = i == sections.count - 1
        out += (last ? "└─ " : "├─ ") + title + "\n"
        for (j, l) in lines.enumerated() {
          out += (last ? "   " : "│  ") + (j == lines.count - 1 ? "└─ " : "├─ ") + l + "\n"
        }
      }
    }
    for p in inv.problems {
      out +=
        "\(p.severity.rawValue): \(p.kind) at \(escapeText(p.path))\(p.address.map { " (\($0))" } ?? ""): \(escapeText(p.message))\n"
    }
    return out
  }

  static func hex(_ v: UInt64) -> String { String(v, radix: 16) }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// The virtual machines a handover carries, each with its memory, its vCPUs
/// and whether the next kernel can bring it back whole.
///
/// One entry per `kvm_vm_luo_v1` file. Its memory is the `guest_memfd`
/// files of the same session whose `vm_token` names it; its vCPUs the
/// `kvm_vcpu_luo_v1` files that do. A VM is complete when no error touches
/// it: its own files, the session or the LUO state above them, or a
/// guest_memfd or vCPU of its session whose VM token names nothing.
/// The JSON shape is documented in Specs/khodump-json.md.
public struct VMInventory: Codable, Sendable {
  public struct Memory: Codable, Sendable {
    public var token: UInt64
    public var compatible: String
    public var size: UInt64
    public var flags: UInt64
    public var nrFolios: Int
    public var preservedBytes: UInt64
  }
  public struct VCPU: Codable, Sendable {
    public var token: UInt64
    public var vcpuId: UInt32
    public var flags: UInt32
    public var caretaker: Bool
    public var rip: String?
    public var controlBlock: String?
  }
  public struct OtherFile: Codable, Sendable {
    public var token: UInt64
    public var compatible: String
    public var summary: String?
  }
  public struct VM: Codable, Sendable {
    public var session: String
    public var token: UInt64
    public var type: UInt64?
    public var layout: String?
    public var data: PhysAddr
    public var memory: [Memory]
    public var vcpus: [VCPU]
    public var otherFiles: [OtherFile]
    /// PCI devices the VM's session holds through VFIO files, as DDDD:BB:DD.F.
    public var devices: [String]
    public var complete: Bool
    public var problems: [Problem]
  }

  public var vms: [VM]
  /// Errors that touch no VM (a guest_memfd in a session without one, say).
  public var problems: [Problem]

  /// Groups `inventory` into VMs; `problems` are every problem of the walk.
  public static func build(_ inv: PayloadInventory, problems all: [Problem], geometry g: PageGeometry) -> VMInventory {
    var vms: [VM] = []
    var used = Set<String>()
    let sessions = Dictionary(grouping: inv.files.filter { $0.session != nil }, by: { $0.session ?? -1 })
    for session in sessions.keys.sorted() {
      let files = sessions[session] ?? []
      let vmFiles = files.filter { $0.name == KVMVM.compatible }
      for vmFile in vmFiles {
        guard let token = vmFile.token else { continue }
        let vmState = vmFile.payload?.state as? KVMVMPayload
        var memory: [Memory] = []
        var vcpus: [VCPU] = []
        var others: [OtherFile] = []
        var paths = [vmFile.path.parent(levels: 1) ?? vmFile.path]
        var orphanPaths: [DecodePath] = []
        for f in files where f.path != vmFile.path {
          let fileToken = f.token ?? 0
          let filePath = f.path.parent(levels: 1) ?? f.path
          func resolves(_ t: UInt64) -> Bool { inv.file(session: session, token: t)?.name == KVMVM.compatible }
          if let gm = f.payload?.state as? GuestMemfdPayload {
            if gm.vmToken == token {
              paths.append(filePath)
              memory.append(
                Memory(
                  token: fileToken, compatible: f.name, size: gm.size, flags: gm.flags, nrFolios: gm.folios.count,
                  preservedBytes: gm.preservedBytes(g)))
            } else if !resolves(gm.vmToken) {
              orphanPaths.append(filePath)
            }
          } else if let v = f.payload?.state as? KVMVCPUPayload {
            if v.vmToken == token {
              paths.append(filePath)
              vcpus.append(
                VCPU(
                  token: fileToken, vcpuId: v.vcpuId, flags: v.flags, caretaker: v.isCaretaker,
                  rip: v.x86.map { "0x" + String($0.rip, radix: 16) },
                  controlBlock: v.controlBlock.map { "\($0.form.rawValue) \($0.stateName)" }))
            } else if !resolves(v.vmToken) {
              orphanPaths.append(filePath)
            }
          } else if f.name != KVMVM.compatible {
            // A guest_memfd or vCPU that did not decode cannot say whose it is: it counts against every VM of the session.
            if f.name == GuestMemfd.compatible || f.name == KVMVCPU.compatible { orphanPaths.append(filePath) }
            others.append(OtherFile(token: fileToken, compatible: f.name, summary: f.payload?.state.summary(g)))
          }
        }
        let sessionPath = vmFile.path.parent(levels: 2)
        let touching = all.filter { p in
          guard p.severity != .note else { return false }
          let path = DecodePath(p.path)
          return paths.contains { path.isWithin($0) } || orphanPaths.contains { path.isWithin($0) }
            || (sessionPath.map { $0.isWithin(path) } ?? false)
        }
        for p in touching { used.insert(p.description) }
        vms.append(
          VM(
            session: vmFile.sessionName ?? "", token: token, type: vmState?.type, layout: vmState?.layout.rawValue,
            data: vmFile.address, memory: memory, vcpus: vcpus.sorted { $0.vcpuId < $1.vcpuId }, otherFiles: others,
            devices: files.compactMap { ($0.payload?.state as? VFIOPCIPayload)?.device.name },
            complete: vmFile.payload != nil && !touching.contains { $0.severity == .error }, problems: touching))
      }
    }
    let loose = all.filter { p in
      p.severity == .error && !used.contains(p.description)
        && inv.files.contains { f in
          (f.name == GuestMemfd.compatible || f.name == KVMVCPU.compatible)
            && DecodePath(p.path).isWithin(f.path.parent(levels: 1) ?? f.path)
        }
    }
    return VMInventory(vms: vms, problems: loose)
  }
}

extension DecodePath {
  /// Whether this path is `other` or lies below it.
  func isWithin(_ other: DecodePath) -> Bool {
    let a = description
    let b = other.description
    guard a.hasPrefix(b) else { return false }
    if a.count == b.count { return true }
    let next = a[a.index(a.startIndex, offsetBy: b.count)]
    return next == "/" || (b == "/")
  }

  /// The path `levels` components up (`nil` past the root).
  func parent(levels: Int) -> DecodePath? {
    var parts = description.split(separator: "/", omittingEmptySubsequences: true)
    guard parts.count >= levels else { return nil }
    parts.removeLast(levels)
    return DecodePath("/" + parts.joined(separator: "/"))
  }
}

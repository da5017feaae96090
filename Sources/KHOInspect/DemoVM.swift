// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// The KVM guest of the demo handover: what `khodump vms` shows.
///
/// One `kvm_vm_luo_v1` (layout K-A, two private-memory attributes), two
/// `guest_memfd_luo_v1` files of 16 KiB and 8 KiB naming it, two
/// `kvm_vcpu_luo_v1` files (vCPU 0 with x86 arch state, vCPU 1 a caretaker
/// with a CB-1 control block), and a 4 MiB `huge-memfd-v1` of two 2 MiB
/// folios whose pool the `hugetlb-v1` FLB preserves.
enum DemoVM {
  static let session = "kvm-guest-07"
  static let vmToken: UInt64 = 0x10

  struct Written {
    var files: [LUOFile]
    var hugetlbFLB: PhysAddr
    /// The guest's data folios, at their orders.
    var folios: [PreservedEntry]
  }

  static func write(into w: inout PayloadWriter, geometry g: PageGeometry) throws -> Written {
    var files: [LUOFile] = []
    var folios: [PreservedEntry] = []
    var vm = KVMVMPayload(layout: .memoryAttributes, type: 0)
    vm.memoryAttributes = [
      KVMMemoryAttribute(gfn: 0x100, attributes: KVMMemoryAttribute.private),
      KVMMemoryAttribute(gfn: 0x101, attributes: KVMMemoryAttribute.private),
    ]
    files.append(LUOFile(compatible: KVMVM.compatible, token: vmToken, data: try KVMVM.encode(vm, into: &w)))

    // Guest memory: order-0 folios in a range of their own.
    var nextPFN: UInt64 = 0x60_0000
    for (token, pages) in [(UInt64(0x11), 4), (UInt64(0x12), 2)] {
      var fs: [MemfdFolio] = []
      for i in 0..<pages where i != 1 {  // page 1 never touched: a hole
        fs.append(MemfdFolio(pfn: nextPFN, flags: GuestMemfdPayload.folioUptodate, index: UInt64(i)))
        folios.append(PreservedEntry(PhysAddr(nextPFN << UInt64(g.pageShift)), order: 0))
        nextPFN += 1
      }
      let gm = GuestMemfdPayload(
        size: UInt64(pages) * g.pageSize64, flags: GuestMemfdPayload.flagInitShared, vmToken: vmToken, folios: fs)
      files.append(LUOFile(compatible: GuestMemfd.compatible, token: token, data: try GuestMemfd.encode(gm, into: &w)))
    }

    var cpu0 = KVMVCPUPayload(vcpuId: 0, vmToken: vmToken)
    cpu0.x86 = KVMVCPUX86State(rip: 0xffff_ffff_8100_0000, rflags: 0x246, mpState: 0, numMsrs: 4)
    files.append(LUOFile(compatible: KVMVCPU.compatible, token: 0x20, data: try KVMVCPU.encode(cpu0, into: &w)))
    var cpu1 = KVMVCPUPayload(vcpuId: 1, flags: KVMVCPUPayload.flagCaretaker, vmToken: vmToken)
    var cb = CaretakerControlBlock(form: .cb1, state: 0, pcpuId: 3, vcpuId: 1)
    cb.vmToken = vmToken
    cb.vcpuToken = 0x21
    cpu1.controlBlock = cb
    files.append(LUOFile(compatible: KVMVCPU.compatible, token: 0x21, data: try KVMVCPU.encode(cpu1, into: &w)))

    // A 4 MiB HugeTLB memfd: two order-9 folios.
    let hugeOrder = 9
    var huge: [MemfdFolio] = []
    for i in 0..<2 {
      let pfn = 0x70_0000 + UInt64(i) << UInt64(hugeOrder)
      huge.append(MemfdFolio(pfn: pfn, flags: 0, index: UInt64(i) << UInt64(hugeOrder)))
      folios.append(PreservedEntry(PhysAddr(pfn << UInt64(g.pageShift)), order: hugeOrder))
    }
    let hm = HugeMemfdPayload(size: 2 * (g.pageSize64 << UInt64(hugeOrder)), order: UInt8(hugeOrder), folios: huge)
    files.append(LUOFile(compatible: HugeMemfd.compatible, token: 0x30, data: try HugeMemfd.encode(hm, into: &w)))
    let flb = try HugeTLBFLB.encode(
      HugeTLBPayload(hstates: [.init(nrPages: 2, order: UInt8(hugeOrder)), .init(nrPages: 0, order: 18)]), into: &w)
    return Written(files: files, hugetlbFLB: flb, folios: folios)
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// The parts of x86 `struct kvm_vcpu_arch_luo_state` an operator reads first.
///
/// The struct (packed, 6712 bytes + 16 per MSR) concatenates the uAPI
/// `kvm_regs`@0, `kvm_sregs`@144, `kvm_mp_state`@456, `kvm_fpu`@460,
/// `kvm_xcrs`@876, `kvm_lapic_state`@1268, `kvm_xsave`@2292,
/// `kvm_vcpu_events`@6388, `kvm_debugregs`@6452, the `kvm_nested_state`
/// header@6580, `u32 num_msrs`@6708 and `kvm_msr_entry msrs[]`@6712.
public struct KVMVCPUX86State: Hashable, Sendable {
  /// Bytes before the MSR array.
  public static let fixedSize = 6712
  public var rip: UInt64
  public var rflags: UInt64
  public var mpState: UInt32
  public var numMsrs: UInt32
  public init(rip: UInt64, rflags: UInt64, mpState: UInt32, numMsrs: UInt32) {
    self.rip = rip
    self.rflags = rflags
    self.mpState = mpState
    self.numMsrs = numMsrs
  }
}

/// A caretaker control block: what keeps a vCPU running across the kexec.
///
/// Three unversioned forms: CB-1 (`caretaker_cb`, 48 bytes packed), CB-2
/// (`kvm_caretaker_cb`, 32 bytes natural) and CB-3 (`kvm_caretaker_cb_ser`,
/// 24 bytes packed, with a pointer to seven u64 counters of telemetry).
public struct CaretakerControlBlock: Hashable, Sendable {
  public enum Form: String, Sendable, Hashable, CaseIterable {
    case cb1 = "CB-1"
    case cb2 = "CB-2"
    case cb3 = "CB-3"
  }
  /// The telemetry counters of CB-3, in order.
  public static let telemetryNames = [
    "total_runs", "total_exits", "stall_count", "last_exit_reason", "last_exit_rip", "stall_exit_reason",
    "stall_exit_rip",
  ]

  public var form: Form
  /// CB-1/2 `attachment_state` (0 ATTACHED, 1 DETACHED, 2 ATTACHING);
  /// CB-3 `state` (0 PAUSED, 1 RUNNING, 2 STOPPING, 3 STOPPED).
  public var state: UInt64
  /// The preserved physical CPU (`U32_MAX`: none).
  public var pcpuId: UInt32
  public var vcpuId: UInt32
  /// CB-1 only.
  public var vmToken: UInt64 = 0
  /// CB-1 only.
  public var vcpuToken: UInt64 = 0
  /// CB-1/2: the old kernel's private runtime page (not ABI).
  public var runtimePA: UInt64 = 0
  public var runtimeSize: UInt64 = 0
  /// CB-3: the telemetry pointer and counters.
  public var telemetry: PhysAddr = .zero
  public var telemetryValues: [UInt64] = []

  public init(form: Form, state: UInt64, pcpuId: UInt32, vcpuId: UInt32) {
    self.form = form
    self.state = state
    self.pcpuId = pcpuId
    self.vcpuId = vcpuId
  }

  /// The state's name in its form.
  public var stateName: String {
    let names = form == .cb3 ? ["PAUSED", "RUNNING", "STOPPING", "STOPPED"] : ["ATTACHED", "DETACHED", "ATTACHING"]
    return state < UInt64(names.count) ? names[Int(state)] : "unknown(\(state))"
  }

  var fields: PayloadValue {
    var out: [(String, PayloadValue)] = [("form", .string(form.rawValue))]
    switch form {
    case .cb1, .cb2:
      out += [("attachment_state", .int(state)), ("pcpu_id", .int(UInt64(pcpuId))), ("vcpu_id", .int(UInt64(vcpuId)))]
      if form == .cb1 { out += [("vm_token", .hex(vmToken)), ("vcpu_token", .hex(vcpuToken))] }
      out += [("runtime_pa", .hex(runtimePA)), ("runtime_size", .int(runtimeSize))]
    case .cb3:
      out += [
        ("state", .int(state)), ("pcpu_id", .int(UInt64(pcpuId))), ("vcpu_id", .int(UInt64(vcpuId))),
        ("telemetry", .hex(telemetry.rawValue)),
      ]
      if !telemetryValues.isEmpty {
        out.append(("telemetry_values", .object(zip(Self.telemetryNames, telemetryValues).map { ($0, .int($1)) })))
      }
    }
    out.append(("state_name", .string(stateName)))
    return .object(out)
  }
}

/// A preserved vCPU (`kvm_vcpu_luo_v1`): `struct kvm_vcpu_luo_ser` (32 bytes).
///
/// | off | size | field |
/// |---|---|---|
/// | 0 | 4 | `vcpu_id` |
/// | 4 | 4 | `flags` (bit 0 CARETAKER) |
/// | 8 | 8 | `vm_token` |
/// | 16 | 8 | `arch_state` (phys) |
/// | 24 | 8 | `cb` (phys of the control block; 0 unless CARETAKER) |
public struct KVMVCPUPayload: PayloadState, Hashable {
  /// `KVM_VCPU_LUO_FLAG_CARETAKER`.
  public static let flagCaretaker: UInt32 = 0x1

  public var vcpuId: UInt32
  public var flags: UInt32
  public var vmToken: UInt64
  public var archState: PhysAddr
  public var cb: PhysAddr
  /// The x86 arch state, when `arch_state` holds one.
  public var x86: KVMVCPUX86State?
  /// The decoded control block.
  public var controlBlock: CaretakerControlBlock?

  public init(vcpuId: UInt32, flags: UInt32 = 0, vmToken: UInt64, archState: PhysAddr = .zero, cb: PhysAddr = .zero) {
    self.vcpuId = vcpuId
    self.flags = flags
    self.vmToken = vmToken
    self.archState = archState
    self.cb = cb
  }

  /// Which struct layout was read.
  public enum Layout: String, Sendable, Hashable {
    /// `flags` at 4, `arch_state` at 16, `cb` at 24.
    case v1 = "V-1"
    /// `reserved` at 4, `cb` at 16, `arch_state` at 24.
    case v2 = "V-2"
  }
  public var layout: Layout = .v1

  /// Whether the vCPU keeps running on a preserved pCPU across the kexec.
  public var isCaretaker: Bool { flags & Self.flagCaretaker != 0 || (layout == .v2 && !cb.isZero) }

  public var fields: PayloadValue {
    var out: [(String, PayloadValue)] = [
      ("vcpu_id", .int(UInt64(vcpuId))), ("flags", .hex(UInt64(flags))), ("vm_token", .hex(vmToken)),
      ("arch_state", .hex(archState.rawValue)), ("cb", .hex(cb.rawValue)),
    ]
    if let x86 {
      out.append(
        (
          "x86",
          .object([
            ("rip", .hex(x86.rip)), ("rflags", .hex(x86.rflags)), ("mp_state", .int(UInt64(x86.mpState))),
            ("num_msrs", .int(UInt64(x86.numMsrs))),
          ])
        ))
    }
    if let controlBlock { out.append(("control_block", controlBlock.fields)) }
    return .object(out)
  }
}

/// The `kvm_vcpu_luo_v1` file handler's codec.
public enum KVMVCPU: PayloadCodec {
  public static let compatible = "kvm_vcpu_luo_v1"
  public static let serSize = 32
  public static var names: [(String, PayloadHost)] { [(compatible, .file)] }

  static func decode(_ c: PayloadContext, _ problems: inout DecodeProblems) throws(DecodeError)
    -> DecodedPayload
  {
    let g = c.geometry
    var r = try _PayloadArrays.header(c, size: serSize)
    var s = KVMVCPUPayload(vcpuId: try r.u32(), flags: try r.u32(), vmToken: try r.u64())
    s.archState = try r.address()
    s.cb = try r.address()
    var refs = [PayloadReference(.metadata, c.address, path: c.path, what: "kvm_vcpu_luo_ser")]
    // V-2 swaps the pointers and has no flags: told apart by the preserved
    // orders (arch state needs two pages or more, a control block one).
    var layout = "V-1"
    if s.flags == 0, !s.cb.isZero, let archOrder = c.preservedOrder(s.cb), archOrder >= 1,
      s.archState.isZero || (c.preservedOrder(s.archState) ?? 0) == 0
    {
      layout = "V-2"
      s.layout = .v2
      swap(&s.archState, &s.cb)
    }
    if s.flags & ~KVMVCPUPayload.flagCaretaker != 0 {
      try problems.report(
        r.error(.unsupported, "flags 0x\(String(s.flags, radix: 16)) has bits kvm_vcpu_luo_v1 does not define", at: 4))
    }
    if s.layout == .v1, s.isCaretaker != !s.cb.isZero {
      try problems.report(
        r.error(
          .inconsistent,
          s.isCaretaker ? "CARETAKER is set but cb is 0" : "cb is set (\(s.cb)) without the CARETAKER flag", at: 24))
    }
    if !s.archState.isZero {
      let p = c.path.appending("arch_state")
      if !s.archState.isPageAligned(g) {
        try problems.report(
          DecodeError(.misaligned, "arch_state \(s.archState) is not page aligned", path: p, address: s.archState))
      } else {
        let limit = c.allocationBytes(at: s.archState, fallbackPages: 4)
        refs.append(
          PayloadReference(
            .metadata, s.archState, pages: UInt64((limit + g.pageSize - 1) / g.pageSize), path: p,
            what: "vCPU arch state"))
        if limit >= KVMVCPUX86State.fixedSize,
          let a = try? c.memory.reader(at: s.archState, count: KVMVCPUX86State.fixedSize, path: p)
        {
          let n = try a.integer(at: 6708, as: UInt32.self)
          if KVMVCPUX86State.fixedSize + 16 * Int(n) > limit {
            try problems.report(
              DecodeError(
                .truncated,
                "num_msrs \(n) needs \(KVMVCPUX86State.fixedSize + 16 * Int(n)) bytes; the allocation holds \(limit)",
                path: p, address: s.archState.advanced(by: 6708)))
          }
          s.x86 = KVMVCPUX86State(
            rip: try a.integer(at: 128), rflags: try a.integer(at: 136), mpState: try a.integer(at: 456), numMsrs: n)
        }
      }
    }
    if !s.cb.isZero {
      // An unreadable control block is reported; the vCPU itself still decodes.
      do {
        s.controlBlock = try controlBlock(c, s, &problems, &refs)
      } catch {
        try problems.report(error)
      }
    }
    return DecodedPayload(
      compatible: c.compatible, format: "\(compatible) \(layout)",
      layoutReason: layout == "V-2" ? "flags 0, the word at 24 is a multi-page allocation: pointers in V-2 order" : nil,
      address: c.address, state: s, references: refs)
  }

  /// Reads the control block and tells its form by where the vCPU id reappears.
  static func controlBlock(
    _ c: PayloadContext, _ s: KVMVCPUPayload, _ problems: inout DecodeProblems, _ refs: inout [PayloadReference]
  ) throws(DecodeError) -> CaretakerControlBlock? {
    let p = c.path.appending("cb")
    refs.append(PayloadReference(.metadata, s.cb, path: p, what: "vCPU control block"))
    if !s.cb.isPageAligned(c.geometry) {
      try problems.report(DecodeError(.misaligned, "cb \(s.cb) is not page aligned", path: p, address: s.cb))
    }
    let b = try c.memory.reader(
      at: s.cb, count: Swift.min(48, c.geometry.pageSize - s.cb.pageOffset(c.geometry)), path: p)
    let w0 = try b.integer(at: 0, as: UInt64.self)
    let u4 = try b.integer(at: 4, as: UInt32.self)
    let u8 = try b.integer(at: 8, as: UInt32.self)
    let u12 = try b.integer(at: 12, as: UInt32.self)
    let w16 = try b.integer(at: 16, as: UInt64.self)
    let aligned16 = w16 == 0 || w16 & c.geometry.pageMask == 0
    let is3 = try b.integer(at: 0, as: UInt32.self) <= 4 && u8 == s.vcpuId && u12 == 0 && aligned16
    // CB-1 holds a token at 16 (any value), CB-2 a page address.
    let is12 = w0 <= 2 && u12 == s.vcpuId
    guard is3 != is12 else {
      try problems.report(
        DecodeError(
          .inconsistent,
          is3
            ? "the control block reads as CB-3 and as CB-1/CB-2; not guessing"
            : "the control block matches no known form (vcpu_id \(s.vcpuId) at neither offset 8 nor 12)",
          path: p, address: s.cb))
      return nil
    }
    if is3 {
      var cb = CaretakerControlBlock(
        form: .cb3, state: UInt64(try b.integer(at: 0, as: UInt32.self)), pcpuId: u4, vcpuId: u8)
      cb.telemetry = PhysAddr(w16)
      if !cb.telemetry.isZero {
        let tp = p.appending("telemetry")
        refs.append(PayloadReference(.metadata, cb.telemetry, path: tp, what: "vCPU telemetry"))
        var t = try c.memory.reader(at: cb.telemetry, count: 56, path: tp)
        for _ in 0..<7 { cb.telemetryValues.append(try t.u64()) }
      }
      return cb
    }
    let cb1 = w16 == s.vmToken || !aligned16
    if cb1, w16 != s.vmToken {
      try problems.report(
        DecodeError(
          .inconsistent,
          "the control block's vm_token 0x\(String(w16, radix: 16)) differs from the vCPU's 0x\(String(s.vmToken, radix: 16))",
          path: p, address: s.cb.advanced(by: 16)))
    }
    var cb = CaretakerControlBlock(form: cb1 ? .cb1 : .cb2, state: w0, pcpuId: u8, vcpuId: u12)
    if cb1 {
      cb.vmToken = w16
      cb.vcpuToken = try b.integer(at: 24)
      cb.runtimePA = try b.integer(at: 32)
      cb.runtimeSize = try b.integer(at: 40)
    } else {
      cb.runtimePA = w16
      cb.runtimeSize = try b.integer(at: 24)
    }
    return cb
  }

  /// Writes the vCPU, its x86 arch state (when given) and control block.
  public static func encode(_ state: KVMVCPUPayload, into w: inout PayloadWriter, path: DecodePath = .root)
    throws(EncodeError) -> PhysAddr
  {
    var arch = state.archState
    if let x = state.x86 {
      guard x.numMsrs <= 4096 else {
        throw EncodeError(.outOfRange, "\(x.numMsrs) MSRs; the encoder writes at most 4096", path: path)
      }
      var a = _PayloadWriter(w.order)
      a.zeros(KVMVCPUX86State.fixedSize + 16 * Int(x.numMsrs))
      var fix = _PayloadWriter(w.order)
      fix.u64(x.rip)
      fix.u64(x.rflags)
      var bytes = a.bytes
      bytes.replaceSubrange(128..<144, with: fix.bytes)
      var m = _PayloadWriter(w.order)
      m.u32(x.mpState)
      bytes.replaceSubrange(456..<460, with: m.bytes)
      var n = _PayloadWriter(w.order)
      n.u32(x.numMsrs)
      bytes.replaceSubrange(6708..<6712, with: n.bytes)
      var out = _PayloadWriter(w.order)
      out.raw(bytes)
      arch = try w.place(out)
    }
    var cbAddr = state.cb
    if let cb = state.controlBlock {
      var b = _PayloadWriter(w.order)
      switch cb.form {
      case .cb1, .cb2:
        b.u64(cb.state)
        b.u32(cb.pcpuId)
        b.u32(cb.vcpuId)
        if cb.form == .cb1 {
          b.u64(cb.vmToken)
          b.u64(cb.vcpuToken)
        }
        b.u64(cb.runtimePA)
        b.u64(cb.runtimeSize)
      case .cb3:
        var tele = PhysAddr.zero
        if !cb.telemetryValues.isEmpty {
          var t = _PayloadWriter(w.order)
          for v in cb.telemetryValues.prefix(7) { t.u64(v) }
          t.zeros(8 * Swift.max(0, 7 - cb.telemetryValues.count))
          tele = try w.place(t)
        }
        b.u32(UInt32(truncatingIfNeeded: cb.state))
        b.u32(cb.pcpuId)
        b.u32(cb.vcpuId)
        b.u32(0)
        b.u64(tele.rawValue)
      }
      cbAddr = try w.place(b)
    }
    var s = _PayloadWriter(w.order)
    s.u32(state.vcpuId)
    s.u32(state.layout == .v1 ? state.flags : 0)
    s.u64(state.vmToken)
    s.u64(state.layout == .v1 ? arch.rawValue : cbAddr.rawValue)
    s.u64(state.layout == .v1 ? cbAddr.rawValue : arch.rawValue)
    return try w.place(s)
  }
}

extension KVMVCPUPayload {
  public func summary(_ g: PageGeometry) -> String {
    var s = "vCPU \(vcpuId), VM token 0x\(String(vmToken, radix: 16))"
    if let x86 { s += ", rip 0x\(String(x86.rip, radix: 16)), \(x86.numMsrs) MSRs" }
    if let cb = controlBlock {
      s +=
        ", caretaker \(cb.form.rawValue) \(cb.stateName) on pCPU \(cb.pcpuId == UInt32.max ? "none" : String(cb.pcpuId))"
    }
    return s
  }
}

// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

// The payload decoders (guest_memfd, KVM, HugeTLB, tmpfs, MSHV, hwpoison,
// pstore), through the registry as the walker calls them.

extension FuzzHarness {
  /// Input: a name selector (an index into ``Payloads/registered``), a
  /// placement byte (bits 0-5: the payload's page from `base`; bits 6-7: the
  /// preserved order the map reports for every page-aligned address: none,
  /// 0, 1 or 3), then pages from `base`. Strict and lenient decodes must
  /// agree; a clean payload of a family with an encoder re-encodes to the
  /// same content.
  @Sendable public static func payloads(_ data: [UInt8]) -> String? {
    guard data.count >= 2 else { return nil }
    let names = Payloads.registered
    let (name, host) = names[Int(data[0]) % names.count]
    let address = PhysAddr(base.rawValue + UInt64(data[1] & 0x3f) * 4096)
    let mode = Int(data[1] >> 6)
    let order: Int? = [nil, 0, 1, 3][mode]
    let memory = image(data.dropFirst(2))
    let context = PayloadContext(
      memory: memory, address: address, host: host, compatible: name, path: "/p",
      preservedOrder: { a in a.rawValue & 0xfff == 0 ? order : nil })
    let lenient = Payloads.decodeReporting(context)
    for e in lenient.problems where e.path.description.isEmpty { return "a problem without a path: \(e)" }
    let strict: DecodedPayload?
    do {
      strict = try Payloads.decode(context)
    } catch {
      return lenient.problems.contains(error) ? nil : "lenient payload decode misses the strict error \(error)"
    }
    guard let strict else { return "strict decode found no decoder for a registered name" }
    guard lenient.isClean else { return "strict decode succeeded where the lenient one found problems" }
    return payloadRoundTrip(strict, memory.geometry)
  }

  /// Re-encodes a clean payload and compares what decodes back.
  static func payloadRoundTrip(_ p: DecodedPayload, _ g: PageGeometry) -> String? {
    let out = PhysicalImage(geometry: g)
    var w = PayloadWriter(image: out, allocator: PageAllocator(start: base, pages: 1 << 16, geometry: g))
    var address: PhysAddr
    var size: UInt64? = nil
    do {
      switch p.state {
      case let s as GuestMemfdPayload: address = try GuestMemfd.encode(s, into: &w)
      case let s as KVMVMPayload:
        guard s.layout != .ambiguous else { return nil }
        address = try KVMVM.encode(s, into: &w)
      case let s as HugeMemfdPayload: address = try HugeMemfd.encode(s, into: &w)
      case let s as HugeTLBPayload: address = try HugeTLBFLB.encode(s, into: &w)
      case let s as TmpfsMountPayload: address = try TmpfsMount.encode(s, into: &w)
      case let s as TmpfsFilePayload: address = try TmpfsFile.encode(s, into: &w)
      case let s as HWPoisonPayload: (address, size) = try HWPoison.encode(s, into: &w)
      default: return nil
      }
    } catch {
      return "a clean \(p.format) payload does not re-encode: \(error)"
    }
    let orders = Dictionary(w.preserved.map { ($0.phys, $0.order) }, uniquingKeysWith: { a, _ in a })
    let host = Payloads.registered.first { $0.name == p.compatible }?.host ?? .file
    let again: DecodedPayload?
    do {
      again = try Payloads.decode(
        PayloadContext(
          memory: out, address: address, size: size, host: host, compatible: p.compatible, path: "/p",
          preservedOrder: { orders[$0] }))
    } catch {
      return "re-encoded \(p.format) does not decode: \(error)"
    }
    guard let again else { return "re-encoded payload has no decoder" }
    return payloadContent(again.state) == payloadContent(p.state) ? nil : "\(p.format) round trip changed the content"
  }

  /// What a round trip must keep (addresses of the payload's own parts change).
  static func payloadContent(_ s: any PayloadState) -> String {
    switch s {
    case let s as GuestMemfdPayload: "\(s.size) \(s.flags) \(s.vmToken) \(s.folios)"
    case let s as KVMVMPayload: "\(s.layout) \(s.type) \(s.memoryAttributes) \(s.cpuid) \(s.pageTables)"
    case let s as HugeMemfdPayload: "\(s.size) \(s.pos) \(s.order) \(s.folios)"
    case let s as HugeTLBPayload: "\(s.hstates)"
    case let s as TmpfsMountPayload: "\(s)"
    case let s as TmpfsFilePayload: "\(s.mntToken) \(s.pos) \(s.size) \(s.mode) \(s.flags) \(s.name) \(s.folios)"
    case let s as HWPoisonPayload: "\(s.form) \(s.pfns)"
    default: ""
    }
  }
}

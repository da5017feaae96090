// SPDX-License-Identifier: Apache-2.0
import KHOCore
import KHOFormats

/// Every payload of a handover, decoded, with the problems of each.
///
/// Built from the decoded LUO state (files and FLBs) and the root's
/// sub-blobs. Unknown strings stay opaque (no payload, no problem).
public struct PayloadInventory: Sendable {
  /// One decoded (or undecodable) payload and where it hangs.
  public struct Entry: Sendable {
    public var host: PayloadHost
    /// The file compatible, FLB name or node name.
    public var name: String
    /// `/LUO/sessions[i]/files[j]/payload`, `/LUO/flbs[k]/payload`, `/<node>`.
    public var path: DecodePath
    public var address: PhysAddr
    /// The session index and name (files only).
    public var session: Int?
    public var sessionName: String?
    /// The file's index in its session (files only).
    public var file: Int?
    /// `luo_flb_ser.count`: the files that use the FLB (FLBs only).
    public var count: UInt64?
    /// The file token (files only).
    public var token: UInt64?
    /// The decoded payload; `nil` when opaque or undecodable.
    public var payload: DecodedPayload?
    /// Whether a decoder is registered for the string.
    public var known: Bool
    /// Decode problems.
    public var problems: [DecodeError]
  }

  public var files: [Entry] = []
  public var flbs: [Entry] = []
  public var subnodes: [Entry] = []

  /// Every entry.
  public var all: [Entry] { files + flbs + subnodes }

  public init() {}

  /// Decodes every payload reachable from `luo` and `subBlobs`.
  ///
  /// `preserved` (the handover's map, when read in full) bounds allocations
  /// by their preserved order.
  public static func build(
    luo: LUODecoded?, subBlobs: [KHOSubBlob], memory: any PhysicalMemory, preserved: PreservedSet?
  ) -> PayloadInventory {
    let set = preserved
    let orderOf: @Sendable (PhysAddr) -> Int? = { a in
      guard let set, let e = set.covering(pfn: a.pfn(set.geometry)), e.phys == a else { return nil }
      return e.order
    }
    var inv = PayloadInventory()
    let luoPath = DecodePath.root.appending(LUO.subnodeName)
    if let luo {
      // FLBs first: the PCI devices they preserve help tell VFIO layouts apart.
      for (k, flb) in luo.state.flbs.enumerated() {
        let path = luoPath.appending("flbs", index: k).appending("payload")
        var e = decode(.flb, flb.name, PhysAddr(flb.data), nil, path, memory, orderOf, nil)
        e.count = flb.count
        inv.flbs.append(e)
      }
      let pci = inv.pciDevices.map { Set($0.map { UInt64($0.domain) << 16 | UInt64($0.bdf) }) }
      for (i, s) in luo.state.sessions.enumerated() {
        for (j, f) in s.files.enumerated() {
          let path = luoPath.appending("sessions", index: i).appending("files", index: j).appending("payload")
          var e = decode(.file, f.compatible, f.data, nil, path, memory, orderOf, pci)
          e.session = i
          e.file = j
          e.sessionName = s.name
          e.token = f.token
          inv.files.append(e)
        }
      }
    }
    for blob in subBlobs where Payloads.isKnown(blob.name, host: .subnode) {
      inv.subnodes.append(
        decode(.subnode, blob.name, blob.address, blob.size, DecodePath.root.appending(blob.name), memory, orderOf, nil)
      )
    }
    return inv
  }

  private static func decode(
    _ host: PayloadHost, _ name: String, _ address: PhysAddr, _ size: UInt64?, _ path: DecodePath,
    _ memory: any PhysicalMemory, _ orderOf: @escaping @Sendable (PhysAddr) -> Int?, _ pci: Set<UInt64>?
  ) -> Entry {
    let known = Payloads.isKnown(name, host: host)
    var e = Entry(host: host, name: name, path: path, address: address, payload: nil, known: known, problems: [])
    guard known else { return e }
    if address.isZero {
      e.problems = [DecodeError(.missing, "\(name) has no data (address 0)", path: path)]
      return e
    }
    var context = PayloadContext(
      memory: memory, address: address, size: size, host: host, compatible: name, path: path, preservedOrder: orderOf)
    context.pciDevices = pci
    let outcome = Payloads.decodeReporting(context)
    e.payload = outcome.value
    e.problems = outcome.problems
    return e
  }

  /// The devices of the decoded PCI FLB, if there is one.
  public var pciDevices: [PCIDevice]? {
    flbs.lazy.compactMap { $0.payload?.state as? PCIPayload }.first?.devices
  }

  /// The decoded IOMMU FLB, if there is one.
  public var iommu: (entry: Entry, state: IOMMUPayload)? {
    for e in flbs { if let s = e.payload?.state as? IOMMUPayload { return (e, s) } }
    return nil
  }

  /// The payload of the file with `token` in session `session`.
  public func file(session: Int, token: UInt64) -> Entry? {
    files.first { $0.session == session && $0.token == token }
  }
}

// SPDX-License-Identifier: Apache-2.0
/// Byte counts for people: 4096 → "4 KiB", 1610612736 → "1.5 GiB".
public func formatBytes(_ n: UInt64) -> String {
  let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
  var v = Double(n)
  var i = 0
  while v >= 1024, i < units.count - 1 {
    v /= 1024
    i += 1
  }
  if i == 0 { return "\(n) bytes" }
  let rounded = (v * 10).rounded() / 10
  let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
  return text + " " + units[i]
}

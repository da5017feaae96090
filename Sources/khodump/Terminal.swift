// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc

/// Colour and progress for a person at a terminal; plain text for pipes.
enum Terminal {
  /// Colour only on a terminal, and never when NO_COLOR is set (no-color.org).
  static let colorEnabled: Bool = {
    if let v = ProcessInfo.processInfo.environment["NO_COLOR"], !v.isEmpty { return false }
    return isatty(STDOUT_FILENO) == 1
  }()

  enum Style: String {
    case red = "31"
    case yellow = "33"
    case green = "32"
    case dim = "2"
    case bold = "1"
    case cyan = "36"
  }

  static func paint(_ s: String, _ style: Style) -> String {
    colorEnabled ? "\u{1b}[\(style.rawValue)m\(s)\u{1b}[0m" : s
  }

  static func error(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
  }
}

/// A progress bar on stderr that appears only for work that takes over a
/// second, and only when stderr is a terminal.
final class ProgressBar {
  private let label: String
  private let start = Date()
  private var shown = false
  private let enabled = isatty(STDERR_FILENO) == 1

  init(_ label: String) { self.label = label }

  func update(_ fraction: Double) {
    guard enabled, Date().timeIntervalSince(start) > 1 else { return }
    shown = true
    let width = 30
    let f = Swift.max(0, Swift.min(1, fraction))
    let filled = Int(f * Double(width))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(Int(f * 100))%".utf8))
  }

  func finish() {
    if shown { FileHandle.standardError.write(Data("\r\u{1b}[K".utf8)) }
  }
}

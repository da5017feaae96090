// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import KHOCore

/// `khodump`: the inspector for Kexec HandOver and Live Update data.
@main
struct Khodump: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "khodump",
    abstract: "Inspect the data one Linux kernel leaves in RAM for the next (KHO/LUO).",
    discussion: """
      Exit status: 0 when the input is clean, 1 when problems were found,
      2 for a usage error or an input that cannot be read.
      """,
    subcommands: [
      InfoCommand.self, InspectCommand.self, ValidateCommand.self, FDTCommand.self, ScanCommand.self,
      SessionsCommand.self, VMsCommand.self, DevicesCommand.self,
      MemfdCommand.self, PagesCommand.self, PackCommand.self, CaptureCommand.self, DiffCommand.self,
      CompatCommand.self, ConvertCommand.self, XArrayCommand.self, DemoCommand.self,
    ])

  /// Runs the command, mapping every outcome to the documented exit codes.
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch let exit as ExitCode {
      Foundation.exit(exit.rawValue)
    } catch let error as DecodeError {
      Terminal.error("khodump: \(error)")
      Foundation.exit(2)
    } catch let error as CocoaError {
      // A file that could not be read or written: its path and the system's reason.
      Terminal.error("khodump: \(describe(error))")
      Foundation.exit(2)
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        print(fullMessage(for: error))
        Foundation.exit(0)
      }
      Terminal.error(fullMessage(for: error))
      Foundation.exit(2)
    }
  }
}

/// A Foundation file error as "PATH: reason" (not the raw NSError text).
func describe(_ error: CocoaError) -> String {
  let path = error.filePath ?? error.url?.path ?? "(file)"
  var reason = "cannot be read or written"
  if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
    reason = String(cString: strerror(Int32(underlying.code)))
  } else {
    switch error.code {
    case .fileNoSuchFile, .fileReadNoSuchFile: reason = "no such file or directory"
    case .fileReadNoPermission, .fileWriteNoPermission: reason = "permission denied"
    case .fileWriteOutOfSpace: reason = "no space left on device"
    default: break
    }
  }
  return "\(path): \(reason)"
}

/// The output formats every verb offers.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case text
  case json
}

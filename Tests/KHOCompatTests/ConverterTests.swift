// SPDX-License-Identifier: Apache-2.0
import KHOCompat
import Testing

/// The converter's contract, against a toy handover model (the real one
/// conforms when the codecs merge).
@Suite("Converter")
struct ConverterTests {
  struct Toy: ConversionSubject, Equatable {
    var componentVersions: [ComponentID: String]
    /// (session, file, seals) of each memfd.
    var memfds: [(Int, Int, UInt32)] = []
    var filesPerSession: [Int] = []

    static func == (a: Toy, b: Toy) -> Bool {
      a.componentVersions == b.componentVersions && a.memfds.map(\.2) == b.memfds.map(\.2)
    }

    func violations(of condition: ConversionCondition) -> [ConversionViolation] {
      switch condition {
      case .memfdNoSeals:
        return memfds.filter { $0.2 != 0 }.map {
          ConversionViolation(
            condition: condition, path: "/LUO/sessions[\($0.0)]/files[\($0.1)]", field: "seals",
            detail: "seals 0x\(String($0.2, radix: 16))")
        }
      case .filesFitArray:
        return filesPerSession.enumerated().filter { $0.element > 128 }.map {
          ConversionViolation(
            condition: condition, path: "/LUO/sessions[\($0.offset)]", field: "files", detail: "\($0.element) files")
        }
      default: return []
      }
    }
  }

  struct Relabel: ComponentTranscoder {
    var rule: ConversionRule
    func transcode(_ s: Toy) throws(ConversionError) -> Toy {
      var t = s
      t.componentVersions[rule.component] = rule.to
      return t
    }
  }

  func transcoders(_ c: ComponentID) -> [any ComponentTranscoder<Toy>] {
    ConversionRule.standard.filter { $0.component == c }.map { Relabel(rule: $0) }
  }

  @Test("lossless when the conditions hold; every step's transcoder runs in order")
  func converts() throws {
    let conv = Converter<Toy>(transcoders: transcoders(.luo) + transcoders(.memfd))
    let toy = Toy(
      componentVersions: [.luo: "luo-v5;block-v1", .memfd: "memfd-v2"], memfds: [(0, 0, 0)], filesPerSession: [3])
    let plan = try conv.plan(toy, targets: [.luo: "luo-v4", .memfd: "memfd-v1"])
    // File handlers before the sub-blob that holds them.
    #expect(plan.steps.map(\.route.path) == ["memfd-v2 → memfd-v1", "luo-v5;block-v1 → luo-v5 → luo-v4"])
    #expect(plan.before == ["luo": "luo-v5;block-v1", "memfd": "memfd-v2"])
    #expect(plan.after == ["luo": "luo-v4", "memfd": "memfd-v1"])
    let out = try conv.convert(toy, targets: [.luo: "luo-v4", .memfd: "memfd-v1"])
    #expect(out.componentVersions == [.luo: "luo-v4", .memfd: "memfd-v1"])
  }

  @Test("lossy conversions are refused with every offending session, file and field")
  func refusesLossy() {
    let conv = Converter<Toy>(transcoders: transcoders(.luo) + transcoders(.memfd))
    let toy = Toy(
      componentVersions: [.luo: "luo-v5", .memfd: "memfd-v2"], memfds: [(0, 2, 0x5), (3, 0, 0), (3, 1, 0x8)],
      filesPerSession: [1, 200])
    do {
      _ = try conv.convert(toy, targets: [.luo: "luo-v4", .memfd: "memfd-v1"])
      Issue.record("lossy conversion accepted")
    } catch {
      #expect(error.kind == .lossy)
      #expect(
        error.violations.map(\.description) == [
          "/LUO/sessions[0]/files[2].seals: seals 0x5 (no memfd has seals set (memfd-v1 cannot store them))",
          "/LUO/sessions[3]/files[1].seals: seals 0x8 (no memfd has seals set (memfd-v1 cannot store them))",
          "/LUO/sessions[1].files: 200 files (at most 128 files per session (2-page file array))",
        ])
    }
  }

  @Test("bad targets, missing routes and missing transcoders are told apart")
  func otherRefusals() {
    let toy = Toy(componentVersions: [.luo: "luo-v5"])
    func kind(_ c: Converter<Toy>, _ t: [ComponentID: String]) -> ConversionError.Kind? {
      do { _ = try c.convert(toy, targets: t) } catch { return error.kind }
      return nil
    }
    let none = Converter<Toy>()
    #expect(kind(none, [.luo: "memfd-v1"]) == .badTarget)
    #expect(kind(none, [.memfd: "memfd-v1"]) == .badTarget)
    #expect(kind(none, [.luo: "luo-v9"]) == .badTarget || kind(none, [.luo: "luo-v9"]) == .noRoute)
    #expect(kind(none, [.luo: "luo-v4"]) == .notImplemented)
    #expect(kind(none, [.luo: "luo-v5"]) == nil)  // nothing to do
  }

  @Test("requirements between components: luo-v4 and later need a kho-v4 root")
  func requirements() {
    struct Rooted: ConversionSubject {
      var componentVersions: [ComponentID: String]
      func violations(of condition: ConversionCondition) -> [ConversionViolation] { [] }
    }
    struct Relabel: ComponentTranscoder {
      var rule: ConversionRule
      func transcode(_ s: Rooted) throws(ConversionError) -> Rooted {
        var t = s
        t.componentVersions[rule.component] = rule.to
        return t
      }
    }
    let conv = Converter<Rooted>(transcoders: ConversionRule.standard.map { Relabel(rule: $0) })
    let s = Rooted(componentVersions: [.kho: "kho-v4", .luo: "luo-v5"])
    do {
      _ = try conv.convert(s, targets: [.kho: "kho-v3"])
      Issue.record("kho-v3 under luo-v5 accepted")
    } catch {
      #expect(error.kind == .unsatisfiedRequirement)
      #expect(
        error.message.hasPrefix(
          "luo-v5 needs kho kho-v4 or kho-v4;radix-v1 or kho-v4;radix-v1;vmalloc-v1 but the result would have kho-v3"))
    }
    // Converting LUO down first makes the older root fine.
    #expect(
      (try? conv.convert(s, targets: [.kho: "kho-v3", .luo: "luo-v3"]))?.componentVersions == [
        .kho: "kho-v3", .luo: "luo-v3",
      ])
  }
}

// SPDX-License-Identifier: Apache-2.0
/// Runs one probe over the cells of its component, caching each encoding.
final class ProbeRunner {
  let probe: any ComponentCodecProbe
  private var samples: [String: ProbeSample] = [:]
  private var canonical: ProbeContent?
  private var variantList: [ProbeVariant]?

  init(_ probe: any ComponentCodecProbe) { self.probe = probe }

  func sample(_ key: String, _ make: () throws -> ProbeSample) throws -> ProbeSample {
    if let s = samples[key] { return s }
    let s = try make()
    samples[key] = s
    return s
  }

  /// Proves `rule`'s cell: the probe's outcome wins; a disagreement is recorded.
  ///
  /// Canonical corpus: written as the writer, read as the reader. On the
  /// diagonal the content must be equal. Off it, the reader must refuse
  /// (or misread) it, as the kernel's exact-match check does; then the
  /// converter's output must read back equal. Variants: every corpus the
  /// writer can encode must convert with equal content where the route's
  /// conditions do not concern it, and be refused naming what it violates
  /// where they do.
  func prove(_ rule: CompatMatrix.Cell) -> CompatMatrix.Cell {
    var cell = rule
    cell.basis = .probe
    let w = rule.writer
    let r = rule.reader
    var evidence: [String] = []
    var problems: [String] = []
    var proven = CompatMatrix.Outcome.refused
    do {
      let canonical = try canonicalContent()
      let sample = try self.sample("canonical \(w)") { try probe.encodeCanonical(w) }
      var got: ProbeContent?
      var refusal = ""
      do { got = try probe.decode(sample, as: r) } catch { refusal = ProbeSupport.describe(error) }
      if w == r {
        if got == canonical {
          proven = .native
          evidence.append("read natively, content equal (\(canonical.lines.count) facts)")
        } else {
          evidence.append(
            got == nil ? "the reader refused it: \(refusal)" : "the reader accepted it but the content differs")
        }
      } else if let got, got == canonical {
        proven = .native
        evidence.append("the \(r) reader accepted \(w) bytes with equal content")
      } else {
        evidence.append(
          got == nil ? "\(r) reader refuses: \(refusal)" : "\(r) reader misreads the \(w) bytes (content differs)")
        do {
          if let converted = try probe.convert(sample, to: r) {
            let back = try probe.decode(converted, as: r)
            let how = rule.route ?? "\(w) → \(r)"
            if back == canonical {
              proven = .converted
              evidence.append("converted \(how), read as \(r): content equal")
            } else {
              evidence.append("converted \(how), but the content read back differs")
            }
          } else if rule.outcome == .converted {
            // No converter for the pair: the refusal is proven, the conversion is still the rule's.
            cell.basis = .rule
            cell.evidence = evidence
            return cell
          }
        } catch {
          evidence.append("converter refuses: \(ProbeSupport.describe(error))")
        }
      }
      if proven != .refused {
        for v in try variants() where v.writers.contains(w) {
          let s = try self.sample("\(v.name) \(w)") { try v.encode(w) }
          if w == r {
            if (try? probe.decode(s, as: r)) == v.content {
              evidence.append("variant '\(v.name)': read natively, content equal")
            } else {
              problems.append("variant '\(v.name)' does not read back natively")
            }
            continue
          }
          let concerned = !Set(rule.conditions).isDisjoint(with: v.violates)
          do {
            guard let c = try probe.convert(s, to: r) else { continue }
            let back = try probe.decode(c, as: r)
            if concerned {
              problems.append(
                "variant '\(v.name)' converted although it violates \(v.violates.map(\.rawValue).joined(separator: ", "))"
              )
            } else if back == v.content {
              evidence.append("variant '\(v.name)': converted, content equal")
            } else {
              problems.append("variant '\(v.name)' converted but its content differs")
            }
          } catch let e as ConversionError where e.kind == .lossy {
            if concerned, e.violations.allSatisfy({ v.violates.contains($0.condition) }) {
              evidence.append("variant '\(v.name)': refused, \(ProbeSupport.describe(e))")
            } else {
              problems.append("variant '\(v.name)' refused unexpectedly: \(ProbeSupport.describe(e))")
            }
          } catch {
            problems.append("variant '\(v.name)': \(ProbeSupport.describe(error))")
          }
        }
      }
    } catch {
      evidence.append("the probe failed: \(ProbeSupport.describe(error))")
    }
    cell.evidence = evidence
    var disagreements: [String] = []
    if proven != rule.outcome {
      disagreements.append(
        "rule says \(rule.outcome.rawValue), probe says \(proven.rawValue): \(evidence.last ?? "")")
      cell.outcome = proven
    }
    disagreements += problems
    if !disagreements.isEmpty { cell.disagreement = disagreements.joined(separator: "; ") }
    return cell
  }

  func canonicalContent() throws -> ProbeContent {
    if let canonical { return canonical }
    let c = try probe.canonicalContent()
    canonical = c
    return c
  }

  func variants() throws -> [ProbeVariant] {
    if let variantList { return variantList }
    let v = try probe.variants()
    variantList = v
    return v
  }
}

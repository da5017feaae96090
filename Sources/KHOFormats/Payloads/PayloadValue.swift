// SPDX-License-Identifier: Apache-2.0
import KHOCore

/// A decoded payload's fields as a tree, keyed by the upstream struct's
/// field names, for JSON and text output.
///
/// Objects keep their fields in struct order. Addresses are written as
/// `"0x…"` strings, integers as numbers.
public indirect enum PayloadValue: Sendable, Hashable, Encodable {
  /// An unsigned integer field.
  case int(UInt64)
  /// A signed integer field.
  case signed(Int64)
  /// A physical address (or other value best read in hex).
  case hex(UInt64)
  /// Text from the payload (escaped when printed).
  case string(String)
  /// A flag.
  case bool(Bool)
  /// A struct: fields in declaration order.
  case object([(String, PayloadValue)])
  /// An array of entries.
  case array([PayloadValue])

  public static func == (a: PayloadValue, b: PayloadValue) -> Bool {
    switch (a, b) {
    case let (.int(x), .int(y)): x == y
    case let (.signed(x), .signed(y)): x == y
    case let (.hex(x), .hex(y)): x == y
    case let (.string(x), .string(y)): x == y
    case let (.bool(x), .bool(y)): x == y
    case let (.object(x), .object(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    case let (.array(x), .array(y)): x == y
    default: false
    }
  }

  public func hash(into hasher: inout Hasher) {
    switch self {
    case .int(let v): hasher.combine(0); hasher.combine(v)
    case .signed(let v): hasher.combine(1); hasher.combine(v)
    case .hex(let v): hasher.combine(2); hasher.combine(v)
    case .string(let v): hasher.combine(3); hasher.combine(v)
    case .bool(let v): hasher.combine(4); hasher.combine(v)
    case .object(let fs): hasher.combine(5); for (k, v) in fs { hasher.combine(k); hasher.combine(v) }
    case .array(let vs): hasher.combine(6); hasher.combine(vs)
    }
  }

  /// The field named `key` of an object.
  public subscript(key: String) -> PayloadValue? {
    guard case .object(let fs) = self else { return nil }
    return fs.first { $0.0 == key }?.1
  }

  struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  public func encode(to encoder: any Encoder) throws {
    switch self {
    case .int(let v):
      var c = encoder.singleValueContainer()
      try c.encode(v)
    case .signed(let v):
      var c = encoder.singleValueContainer()
      try c.encode(v)
    case .hex(let v):
      var c = encoder.singleValueContainer()
      try c.encode("0x" + String(v, radix: 16))
    case .string(let v):
      var c = encoder.singleValueContainer()
      try c.encode(v)
    case .bool(let v):
      var c = encoder.singleValueContainer()
      try c.encode(v)
    case .object(let fields):
      var c = encoder.container(keyedBy: Key.self)
      for (k, v) in fields { try c.encode(v, forKey: Key(k)) }
    case .array(let vs):
      var c = encoder.unkeyedContainer()
      for v in vs { try c.encode(v) }
    }
  }
}

extension PayloadValue {
  /// A `kho_vmalloc` descriptor with its decoded entries.
  static func vmalloc(_ d: VMallocDescriptor, entries: [PayloadValue]) -> PayloadValue {
    .object([
      ("first", .hex(d.first.rawValue)), ("total_pages", .int(UInt64(d.totalPages))),
      ("flags", .int(UInt64(d.flags))), ("order", .int(UInt64(d.order))), ("entries", .array(entries)),
    ])
  }

  /// A 52/12 folio entry.
  static func folio(_ f: MemfdFolio) -> PayloadValue {
    .object([("pfn", .hex(f.pfn)), ("flags", .int(UInt64(f.flags))), ("index", .int(f.index))])
  }
}

extension PayloadValue: Decodable {
  /// Reads JSON back (object keys in the order the decoder lists them;
  /// `"0x…"` strings as ``hex(_:)``).
  public init(from decoder: any Decoder) throws {
    if let c = try? decoder.container(keyedBy: Key.self) {
      self = .object(try c.allKeys.map { ($0.stringValue, try c.decode(PayloadValue.self, forKey: $0)) })
      return
    }
    if var c = try? decoder.unkeyedContainer() {
      var out: [PayloadValue] = []
      while !c.isAtEnd { out.append(try c.decode(PayloadValue.self)) }
      self = .array(out)
      return
    }
    let c = try decoder.singleValueContainer()
    if let b = try? c.decode(Bool.self) {
      self = .bool(b)
    } else if let u = try? c.decode(UInt64.self) {
      self = .int(u)
    } else if let i = try? c.decode(Int64.self) {
      self = .signed(i)
    } else {
      let s = try c.decode(String.self)
      if s.hasPrefix("0x"), let v = UInt64(s.dropFirst(2), radix: 16) { self = .hex(v) } else { self = .string(s) }
    }
  }
}

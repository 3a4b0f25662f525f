/// One HTTP request as the handler sees it: fully read (body capped), decoded into plain values.
import Foundation

public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without the query string, still percent-encoded as sent (e.g. `/v1/jobs/a%2Fb`);
    /// `pathSegments` decodes it piece by piece.
    public var path: String
    /// Query arguments (`?state=running`), already percent-decoded.
    public var query: [String: String]
    /// The header fields in the order they first came, names lower-cased, a field sent more than once
    /// already joined (`RequestValues`). A list, not a dictionary: a request has a handful of fields,
    /// and comparing a few short names costs less than hashing every name on the way in and every
    /// name looked up (reading the fields and the browser guard's lookups went from 3,660 to 2,390
    /// instructions per `GET /v1/jobs/{id}`, callgrind).
    public var fields: [(name: String, value: String)]
    public var body: [UInt8]

    /// Header names lower-cased.
    public var headers: [String: String] { Dictionary(fields, uniquingKeysWith: { first, _ in first }) }

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
                body: [UInt8] = []) {
        self.init(method: method, path: path, query: query, fields: headers.map { ($0.key.lowercased(), $0.value) },
                  body: body)
    }

    init(method: String, path: String, query: [String: String], fields: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.path = path
        self.query = query
        self.fields = fields
        self.body = body
    }

    /// The header `name`, in any case; a lower-case name is looked up as it is.
    public func header(_ name: String) -> String? {
        let key = name.utf8.contains { $0 >= 0x41 && $0 <= 0x5a } ? name.lowercased() : name
        for field in fields where field.name == key { return field.value }
        return nil
    }

    /// The path split at "/" and then percent-decoded, so an encoded "/" or "?" stays inside its
    /// segment; nil when an escape is malformed. The piece before the first "/" is not a segment.
    public var pathSegments: [String]? {
        var path = path  // `withUTF8` is mutating; a native string is not copied
        return path.withUTF8 { bytes -> [String]? in
            var out: [String] = []
            out.reserveCapacity(4)  // every route has at most four
            var start = bytes.startIndex
            var first = true
            for index in bytes.indices where bytes[index] == UInt8(ascii: "/") {
                if !first {
                    guard let segment = Self.percentDecoded(bytes[start..<index]) else { return nil }
                    out.append(segment)
                }
                first = false
                start = index + 1
            }
            guard !first else { return [] }
            guard let last = Self.percentDecoded(bytes[start..<bytes.endIndex]) else { return nil }
            out.append(last)
            return out
        }
    }

    /// `%XX` escapes decoded as Foundation's `removingPercentEncoding` does: nil for a `%` not followed
    /// by two hex digits, or when the bytes are not UTF-8. Done on the bytes because that one went
    /// through an NSString and CFString and back, a tenth of the CPU a `GET /v1/jobs/{id}` cost.
    static func percentDecoded<Bytes: Collection<UInt8>>(_ text: Bytes) -> String? {
        guard text.contains(UInt8(ascii: "%")) else { return String(decoding: text, as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Decodes query keys and values (`+` is a space, then percent escapes); malformed ones are kept raw.
    static func decodeQuery(_ raw: [String: String]) -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in raw {
            let decode = { (s: String) in s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? s }
            out[decode(key)] = decode(value)
        }
        return out
    }
}

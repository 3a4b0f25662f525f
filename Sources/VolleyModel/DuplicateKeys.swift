import Foundation

/// Finds the first object key that appears twice in one JSON object. Foundation's decoder keeps the
/// first of them while jq, Python and Go keep the last, so a proxy that checks a spec could see another
/// target than the agent; Volley refuses such bodies instead. Keys are compared after unescaping
/// (`"\u0061"` is `"a"`). It stops at the first repeat; whether the rest is well-formed is the
/// decoder's to say.
enum DuplicateKeys {
    /// The path of the repeated key (`tags.team`, `profile[1].rate_pps`), or nil: also for malformed
    /// JSON, which the decoder then refuses as `bad_json` with its own account of what is wrong.
    static func first(in bytes: [UInt8]) -> String? {
        var scanner = Scanner(bytes: bytes)
        do {
            return try scanner.value(path: "")
        } catch {
            return nil
        }
    }

    private struct Malformed: Error {}

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        /// Scans one value; returns the path of a duplicate key inside it, if any.
        mutating func value(path: String) throws -> String? {
            skipSpace()
            guard index < bytes.count else { throw Malformed() }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(path: path)
            case UInt8(ascii: "["): return try array(path: path)
            case UInt8(ascii: "\""):
                _ = try string()
                return nil
            default:
                // A number, true, false or null: skip to the next delimiter.
                while index < bytes.count, !",]} \t\r\n".utf8.contains(bytes[index]) { index += 1 }
                return nil
            }
        }

        private mutating func object(path: String) throws -> String? {
            index += 1
            var seen: Set<String> = []
            skipSpace()
            if peek(UInt8(ascii: "}")) { index += 1; return nil }
            while true {
                skipSpace()
                guard peek(UInt8(ascii: "\"")) else { throw Malformed() }
                let key = try string()
                let inner = path.isEmpty ? key : "\(path).\(key)"
                if !seen.insert(key).inserted { return inner }
                skipSpace()
                guard peek(UInt8(ascii: ":")) else { throw Malformed() }
                index += 1
                if let found = try value(path: inner) { return found }
                skipSpace()
                if peek(UInt8(ascii: ",")) { index += 1; continue }
                guard peek(UInt8(ascii: "}")) else { throw Malformed() }
                index += 1
                return nil
            }
        }

        private mutating func array(path: String) throws -> String? {
            index += 1
            skipSpace()
            if peek(UInt8(ascii: "]")) { index += 1; return nil }
            var position = 0
            while true {
                if let found = try value(path: "\(path)[\(position)]") { return found }
                skipSpace()
                if peek(UInt8(ascii: ",")) { index += 1; position += 1; continue }
                guard peek(UInt8(ascii: "]")) else { throw Malformed() }
                index += 1
                return nil
            }
        }

        /// A string token, unescaped.
        private mutating func string() throws -> String {
            index += 1
            var units: [UInt16] = []
            var raw: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") {
                    units += String(decoding: raw, as: UTF8.self).utf16
                    return String(decoding: units, as: UTF16.self)
                }
                guard byte == UInt8(ascii: "\\") else { raw.append(byte); continue }
                units += String(decoding: raw, as: UTF8.self).utf16
                raw = []
                guard index < bytes.count else { throw Malformed() }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "u"):
                    guard index + 4 <= bytes.count, let unit = UInt16(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                    else { throw Malformed() }
                    units.append(unit)
                    index += 4
                case UInt8(ascii: "n"): units.append(0x0a)
                case UInt8(ascii: "t"): units.append(0x09)
                case UInt8(ascii: "r"): units.append(0x0d)
                case UInt8(ascii: "b"): units.append(0x08)
                case UInt8(ascii: "f"): units.append(0x0c)
                default: units.append(UInt16(escape))
                }
            }
            throw Malformed()
        }

        private mutating func skipSpace() {
            while index < bytes.count, " \t\r\n".utf8.contains(bytes[index]) { index += 1 }
        }

        private func peek(_ byte: UInt8) -> Bool { index < bytes.count && bytes[index] == byte }
    }
}

/// JSON syntax, apart from what a document means.
enum JSONSyntax {
    /// Whether Foundation reads `data` as JSON at all (any value, not only an object).
    static func isWellFormed(_ data: Data) -> Bool {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return true
        } catch {
            return false
        }
    }
}

import Foundation

/// A job's identifier: 1–64 characters of `A–Z a–z 0–9 . _ -`, not starting with a dot, so it is
/// always a safe file name. Anything else never reaches the disk.
public struct JobID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let rawValue: String

    public init?(_ text: String) {
        guard Self.isValid(text) else { return nil }
        rawValue = text
    }

    /// A new id that sorts by creation time: `j` + milliseconds since 1970 in hex + 32 random bits.
    public static func generate(now: Date = Date()) -> JobID {
        let ms = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let random = UInt32.random(in: .min ... .max)
        let text = "j" + String(ms, radix: 16).leftPadded(to: 12) + "-" + String(random, radix: 16).leftPadded(to: 8)
        return JobID(text)!
    }

    public static func isValid(_ text: String) -> Bool {
        var text = text  // `withUTF8` is mutating; a native string is not copied
        // On the contiguous bytes: `allSatisfy` over the UTF8View was a twentieth of the agent's own
        // instructions on a `GET /v1/jobs/{id}` (callgrind, Benchmarks/README.md).
        return text.withUTF8 { bytes in
            guard (1...64).contains(bytes.count), bytes[0] != UInt8(ascii: ".") else { return false }
            for c in bytes {
                guard (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
                    || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") else { return false }
            }
            return true
        }
    }

    public var description: String { rawValue }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = JobID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad job id"))
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    public static func < (a: JobID, b: JobID) -> Bool { a.rawValue < b.rawValue }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

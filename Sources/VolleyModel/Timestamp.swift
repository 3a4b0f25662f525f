import Foundation

/// A point in time that encodes as RFC 3339 UTC with milliseconds, e.g. `2026-11-26T18:16:08.123Z`.
public struct Timestamp: Codable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var date: Date

    public init(_ date: Date = Date()) { self.date = date }

    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    public var description: String { date.formatted(Self.style) }

    public init?(rfc3339 text: String) {
        guard let date = (try? Self.style.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text)) else {
            return nil
        }
        self.date = date
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = Timestamp(rfc3339: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(text)' is not an RFC 3339 time"))
        }
        self = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.date < b.date }
}

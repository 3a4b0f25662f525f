import Foundation

/// A point in time, kept to the millisecond, that encodes as RFC 3339 UTC with milliseconds,
/// e.g. `2026-11-26T18:16:08.123Z`. Whole milliseconds make encode → decode exact.
public struct Timestamp: Codable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let millisecondsSince1970: Int64

    public init(_ date: Date = Date()) {
        millisecondsSince1970 = Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    public init(millisecondsSince1970: Int64) { self.millisecondsSince1970 = millisecondsSince1970 }

    public var date: Date { Date(timeIntervalSince1970: Double(millisecondsSince1970) / 1000) }

    public var description: String {
        var seconds = time_t(millisecondsSince1970.floorDiv(1000))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let ms = Int(millisecondsSince1970 - Int64(seconds) * 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), ms)
    }

    /// Parses an RFC 3339 date-time exactly: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, `T` and `Z` in
    /// either case, any number of fraction digits (kept to the millisecond), real calendar dates, and
    /// only times whose UTC value lies in `describable` (years 0000 to 9999).
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var v = 0
            for c in b[at..<(at + count)] {
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            return v
        }
        func byte(_ at: Int, _ allowed: String) -> Bool { at < b.count && allowed.utf8.contains(b[at]) }
        guard let year = digits(0, 4), byte(4, "-"), let month = digits(5, 2), byte(7, "-"), let day = digits(8, 2),
              byte(10, "Tt"), let hour = digits(11, 2), byte(13, ":"), let minute = digits(14, 2), byte(16, ":"),
              let second = digits(17, 2) else { return nil }
        var i = 19
        var millis = 0
        if byte(i, ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            guard i > start else { return nil }
            let fraction = String(decoding: b[start..<min(i, start + 3)], as: UTF8.self)
            millis = Int(fraction.padding(toLength: 3, withPad: "0", startingAt: 0))!
        }
        var offsetMinutes = 0
        if byte(i, "Zz") {
            i += 1
        } else if byte(i, "+-"), let oh = digits(i + 1, 2), byte(i + 3, ":"), let om = digits(i + 4, 2), oh <= 23, om <= 59 {
            offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard i == b.count, (1...12).contains(month), (1...monthDays[month - 1]).contains(day), hour <= 23, minute <= 59,
              second <= 60 else { return nil }
        // Days since 1970 by the civil-from-days inverse (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetMinutes * 60)
        let milliseconds = seconds * 1000 + Int64(millis)
        // An offset can move a time past 9999-12-31 (or before 0000-01-01) in UTC, where `description`
        // would need five digits (or a sign) and could not be read back.
        guard Self.describable.contains(milliseconds) else { return nil }
        self.init(millisecondsSince1970: milliseconds)
    }

    /// 0000-01-01T00:00:00.000Z ... 9999-12-31T23:59:59.999Z: the times whose `description` has a
    /// four-digit year, so that it parses back to the same value.
    public static let describable: ClosedRange<Int64> = -62_167_219_200_000...253_402_300_799_999

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

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.millisecondsSince1970 < b.millisecondsSince1970 }
}

extension Int64 {
    fileprivate func floorDiv(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}

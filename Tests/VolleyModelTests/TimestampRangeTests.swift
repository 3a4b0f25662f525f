import Foundation
import Testing
@testable import VolleyModel

/// Every time `Timestamp(rfc3339:)` accepts must print as a time it reads back to the same value:
/// stored jobs are written with `description` and read again at the next start.
@Suite struct TimestampRangeTests {
    @Test(arguments: ["9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59.999-00:01", "0000-01-01T00:00:00+00:01",
                      "0000-01-01T00:00:00.000+23:59"])
    func offsetsThatLeaveYears0000To9999AreRefused(text: String) {
        #expect(Timestamp(rfc3339: text) == nil, "\(text)")
    }

    @Test(arguments: [
        ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
        ("9999-12-31T23:59:60.9999Z", "9999-12-31T23:59:59.999Z"),
        ("9999-12-31T23:59:59+23:59", "9999-12-31T00:00:59.000Z"),
        ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"),
        ("0000-01-01T00:00:00-23:59", "0000-01-01T23:59:00.000Z"),
        ("0000-02-29T12:00:00Z", "0000-02-29T12:00:00.000Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
        ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"),
        ("1970-01-01T00:00:00+00:01", "1969-12-31T23:59:00.000Z"),
        ("2000-02-29T23:59:59.999-23:59", "2000-03-01T23:58:59.999Z"),
    ])
    func edgeTimesRoundTrip(text: String, canonical: String) throws {
        let t = try #require(Timestamp(rfc3339: text), "\(text)")
        #expect(t.description == canonical)
        #expect(Timestamp(rfc3339: t.description) == t)
    }

    @Test func theBoundsThemselvesRoundTrip() throws {
        for ms in [Timestamp.describable.lowerBound, Timestamp.describable.upperBound, 0, -1] {
            let t = Timestamp(millisecondsSince1970: ms)
            #expect(Timestamp(rfc3339: t.description) == t, "\(t)")
        }
    }

    @Test func aStartAtPastYear9999IsASpecError() {
        let body = #"{"mode":"sink","listen":"127.0.0.1:9000","start_at":"9999-12-31T23:59:59-23:59"}"#
        #expect(throws: SpecError.self) { try JobSpec.decode(json: Data(body.utf8)) }
        do {
            _ = try JobSpec.decode(json: Data(body.utf8))
        } catch {
            #expect(error.field == "start_at")
        }
    }
}

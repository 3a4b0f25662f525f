import Foundation
import Testing
@testable import MicroHTTP

/// The path is decoded on its bytes (Foundation's `removingPercentEncoding` went through NSString and
/// CFString, a tenth of the CPU of a `GET /v1/jobs/{id}`); it must answer as Foundation did.
@Suite struct PercentDecodingTests {
    static let inputs = ["", "plain", "a%2Fb", "a%2fb", "%3F", "caf%C3%A9", "café", "%", "%4", "%zz", "%4g", "ab%", "%C3",
                         "%C3%28", "%FF", "%00x", "a+b", "%25", "%252F", "100%", "%E2%82%AC", "%e2%82%ac", "%F0%9F%98%80",
                         "j01a21f826694-e1ceebd3"]

    @Test func decodesAsFoundationDoes() {
        for text in Self.inputs {
            #expect(HTTPRequest.percentDecoded(text.utf8) == text.removingPercentEncoding, "\(text)")
        }
    }

    @Test func splitsPathsIntoDecodedSegments() {
        let cases: [(path: String, segments: [String]?)] = [
            ("/", [""]), ("/v1/jobs/a%2Fb", ["v1", "jobs", "a/b"]), ("/v1//x/", ["v1", "", "x", ""]),
            ("/v1/jobs/bad%zz", nil), ("/v1/jobs/%C3", nil), ("noslash", []), ("/caf%C3%A9/x", ["café", "x"]),
        ]
        for (path, segments) in cases {
            #expect(HTTPRequest(method: "GET", path: path).pathSegments == segments, "\(path)")
        }
    }
}

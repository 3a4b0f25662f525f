import Foundation
import Testing
@testable import VolleyModel

private func decode(_ json: String) throws(SpecError) -> JobSpec {
    try JobSpec.decode(json: Data(json.utf8))
}

/// The error a spec produces, or nil when it decodes.
private func failure(_ json: String) -> SpecError? {
    do {
        _ = try decode(json)
        return nil
    } catch {
        return error
    }
}

@Suite struct JobSpecDecodingTests {
    @Test func sendSpecFromTheIssueDecodes() throws {
        let spec = try decode(#"{"mode":"send","target":"127.0.0.1:9000","duration_s":5,"rate_pps":0,"payload_bytes":64,"batch":64,"threads":1,"max_packets":0,"tags":{}}"#)
        #expect(spec.mode == .send)
        #expect(spec.target == Endpoint(address: IPAddress("127.0.0.1")!, port: 9000))
        #expect(spec.durationSeconds == 5)
        #expect(spec.payloadBytes == 64 && spec.batch == 64 && spec.threads == 1)
    }

    @Test func omittedFieldsTakeDefaults() throws {
        let spec = try decode(#"{"mode":"sink","listen":"[::1]:9000"}"#)
        #expect(spec.durationSeconds == JobSpec.defaultDurationSeconds)
        #expect(spec.batch == 64 && spec.threads == 1 && spec.maxPackets == 0 && spec.tags.isEmpty)
        #expect(spec.listen?.description == "[::1]:9000")
    }

    @Test func fractionalDurationAndTagsAreKept() throws {
        let spec = try decode(#"{"mode":"send","target":"localhost:53","duration_s":0.25,"tags":{"team":"dns"}}"#)
        #expect(spec.durationSeconds == 0.25)
        #expect(spec.tags == ["team": "dns"])
        #expect(spec.target?.description == "127.0.0.1:53")
    }

    @Test func encodedSpecSpellsOutEveryFieldOfItsModeAndRoundTrips() throws {
        let spec = try decode(#"{"mode":"sink","listen":"127.0.0.1:9000"}"#)
        let json = try #require(try JSONSerialization.jsonObject(with: VolleyJSON.encode(spec)) as? [String: Any])
        #expect(Set(json.keys) == ["mode", "listen", "duration_s", "batch", "threads", "max_packets", "tags"])
        #expect(try JobSpec.decode(json: VolleyJSON.encode(spec)) == spec)
    }

    @Test func malformedJSONIsBadJSON() {
        #expect(failure(#"{"mode":"send","#)?.kind == .badJSON)
        #expect(failure("not json")?.kind == .badJSON)
    }

    @Test func nonObjectIsInvalidSpec() {
        let error = failure("[1,2]")
        #expect(error?.kind == .invalidSpec)
        #expect(error?.message.contains("JSON object") == true)
    }

    @Test func unknownFieldsAreRejectedByName() {
        let error = failure(#"{"mode":"send","target":"127.0.0.1:9","rate":5}"#)
        #expect(error?.field == "rate")
        #expect(error?.message.contains("unknown field 'rate'") == true)
    }

    @Test func fieldsOfAnotherModeAreRejected() {
        #expect(failure(#"{"mode":"sink","listen":"127.0.0.1:9","target":"127.0.0.1:9"}"#)?.field == "target")
        #expect(failure(#"{"mode":"sink","listen":"127.0.0.1:9","rate_pps":10}"#)?.field == "rate_pps")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","listen":"127.0.0.1:9"}"#)?.field == "listen")
    }

    @Test func modeIsRequiredAndChecked() {
        #expect(failure(#"{"target":"127.0.0.1:9"}"#)?.field == "mode")
        let bad = failure(#"{"mode":"flood"}"#)
        #expect(bad?.field == "mode")
        #expect(bad?.message.contains("send, sink") == true)
        #expect(failure(#"{"mode":5}"#)?.field == "mode")
    }

    @Test func addressesAreRequiredPerMode() {
        #expect(failure(#"{"mode":"send"}"#)?.field == "target")
        #expect(failure(#"{"mode":"sink"}"#)?.field == "listen")
    }

    @Test(arguments: [
        ("duration_s", "0"), ("duration_s", "-1"), ("duration_s", "3600.5"),
        ("rate_pps", "-1"), ("rate_pps", "100000001"),
        ("payload_bytes", "-1"), ("payload_bytes", "65508"),
        ("batch", "0"), ("batch", "1025"),
        ("threads", "0"), ("threads", "65"),
        ("max_packets", "-5"),
    ])
    func outOfRangeValuesNameTheirField(field: String, value: String) {
        let error = failure(#"{"mode":"send","target":"127.0.0.1:9","\#(field)":\#(value)}"#)
        #expect(error?.kind == .invalidSpec)
        #expect(error?.field == field)
        #expect(error?.message.contains(field) == true)
    }

    @Test(arguments: ["duration_s", "rate_pps", "payload_bytes", "batch", "threads", "max_packets", "tags", "target"])
    func wrongTypesNameTheirField(field: String) {
        let target = field == "target" ? "" : #""target":"127.0.0.1:9","#
        let error = failure(#"{"mode":"send",\#(target)"\#(field)":[true]}"#)
        #expect(error?.kind == .invalidSpec)
        #expect(error?.field == field)
        #expect(error?.message.contains("must be") == true)
    }

    @Test func fractionalCountsAreWrongType() {
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","batch":1.5}"#)?.field == "batch")
    }

    @Test func nonStringTagValueNamesTheTag() {
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","tags":{"a":"x","b":2}}"#)?.field == "tags.b")
    }

    @Test func tooManyOrTooLongTagsAreRefused() {
        let many = (0..<65).map { #""k\#($0)":"v""# }.joined(separator: ",")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","tags":{\#(many)}}"#)?.field == "tags")
        let long = String(repeating: "x", count: 257)
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","tags":{"k":"\#(long)"}}"#)?.field == "tags.k")
    }

    @Test func rateBelowThreadCountIsRefused() {
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":3,"threads":4}"#)?.field == "rate_pps")
    }

    @Test(arguments: ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x", "example.com:53", "::1:53", "[::1]53", "[nope]:53", ""])
    func badEndpointsNameTheField(text: String) {
        let error = failure(#"{"mode":"send","target":"\#(text)"}"#)
        #expect(error?.field == "target")
        #expect(error?.kind == .invalidSpec)
    }
}

@Suite struct JobSpecNumberTests {
    @Test(arguments: [(#""rate_pps":1.5"#, "rate_pps"), (#""rate_pps":1e30"#, "rate_pps"),
                      (#""max_packets":1e17"#, "max_packets"), (#""batch":-0.5"#, "batch")])
    func numbersThatDoNotFitNameTheirField(fragment: String, field: String) {
        let error = failure(#"{"mode":"send","target":"127.0.0.1:9",\#(fragment)}"#)
        #expect(error?.kind == .invalidSpec, "\(fragment)")
        #expect(error?.field == field, "\(fragment)")
    }

    @Test func nullBodyIsNotAnObject() {
        #expect(failure("null")?.message == "the job spec must be a JSON object")
    }
}

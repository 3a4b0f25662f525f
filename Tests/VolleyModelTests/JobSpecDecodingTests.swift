import Foundation
import Testing
@testable import VolleyModel

@Suite struct JobSpecDecodingTests {
    @Test func sendSpecFromTheIssueDecodes() throws {
        let spec = try decode(#"{"mode":"send","target":"127.0.0.1:9000","duration_s":5,"rate_pps":"max","payload_bytes":64,"batch":64,"threads":1,"max_packets":0,"tags":{}}"#)
        #expect(spec.mode == .send)
        #expect(spec.target == Endpoint(address: IPAddress("127.0.0.1")!, port: 9000))
        #expect(spec.durationSeconds == 5)
        #expect(spec.payloadBytes == 64 && spec.batch == 64 && spec.threads == 1)
        #expect(spec.ratePPS == JobSpec.unlimitedRate)
    }

    /// jq, Python and Go keep the last of two equal keys, Foundation the first: Volley takes neither.
    @Test func repeatedKeysAreRefusedByName() {
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","target":"127.0.0.2:9"}"#)?.field == "target")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","t\u0061rget":"127.0.0.2:9"}"#)?.field == "target")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","tags":{"a":"1","b":"2","a":"3"}}"#)?.field == "tags.a")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","profile":[{"rate_pps":1,"duration_s":1},{"rate_pps":2,"rate_pps":3,"duration_s":1}]}"#)?.field == "profile[1].rate_pps")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","tags":{"a":"x","A":"y"},"rate_pps":10}"#) == nil)
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","tags":{"k":"{\"a\":1,\"a\":2}"},"rate_pps":10}"#) == nil)
        #expect(DuplicateKeys.first(in: Array(#"{"a":[{"b":1},{"b":2}],"c":{"d":{"e":1,"e":2}}}"#.utf8)) == "c.d.e")
        #expect(failure(#"{"mode":"send","mode":"#)?.kind == .badJSON)  // malformed is bad JSON, repeat or not
    }

    /// A tag's limit is in bytes: one letter with 40,000 combining marks is one character but 80 KB.
    @Test func tagLimitsCountBytes() {
        let heavy = "e" + String(repeating: "\u{0301}", count: 300)
        #expect(heavy.count == 1)
        let json = #"{"mode":"send","target":"127.0.0.1:9","tags":{"t":"\#(heavy)"}}"#
        #expect(failure(json)?.field == "tags.t")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","tags":{"t":"\#(String(repeating: "é", count: 128))"}}"#) == nil)
    }

    /// Unlimited is a word: 0 is refused, an absent rate is a modest default, and "max" encodes back.
    @Test func unlimitedRateMustBeSaid() throws {
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":0}"#)?.field == "rate_pps")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":"fast"}"#)?.field == "rate_pps")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":-3}"#)?.field == "rate_pps")
        #expect(try decode(#"{"mode":"send","target":"127.0.0.1:9"}"#).ratePPS == JobSpec.defaultRatePPS)
        #expect(try decode(#"{"mode":"echo","target":"127.0.0.1:9"}"#).ratePPS == 1_000)
        #expect(try decode(#"{"mode":"reflect","listen":"127.0.0.1:9"}"#).ratePPS == JobSpec.unlimitedRate)
        #expect(try decode(#"{"mode":"reflect","listen":"127.0.0.1:9","rate_pps":500}"#).ratePPS == 500)
        let max = try decode(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":"max"}"#)
        let json = String(decoding: try VolleyJSON.encode(max), as: UTF8.self)
        #expect(json.contains(#""rate_pps":"max""#))
        #expect(try decode(json) == max)
        // Records written before "max" existed said 0, and still load.
        let old = #"{"mode":"send","target":"127.0.0.1:9","duration_s":1,"rate_pps":0,"payload_bytes":64,"batch":64,"threads":1,"flows":1,"max_packets":0,"tags":{}}"#
        #expect(try VolleyJSON.decode(JobSpec.self, from: Data(old.utf8)).ratePPS == JobSpec.unlimitedRate)
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
        #expect(Set(json.keys) == ["mode", "listen", "duration_s", "batch", "threads", "max_packets", "gro", "tags"])
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

@Suite struct TrafficShapeSpecTests {
    @Test func echoAndReflectSpecsDecode() throws {
        let echo = try decode(#"{"mode":"echo","target":"[::1]:7","rate_pps":1000,"echo_timeout_ms":250,"flows":4}"#)
        #expect(echo.mode == .echo && echo.echoTimeoutMilliseconds == 250 && echo.flows == 4)
        let reflect = try decode(#"{"mode":"reflect","listen":"127.0.0.1:7","gro":true}"#)
        #expect(reflect.gro && reflect.mode == .reflect)
    }

    /// busy_poll_us: echo, reflect and paced send, 0...10000, written back only when set.
    @Test func busyPollIsForEchoReflectAndPacedSendAndRoundTrips() throws {
        let echo = try decode(#"{"mode":"echo","target":"127.0.0.1:7","busy_poll_us":50}"#)
        #expect(echo.busyPollMicroseconds == 50)
        let json = try #require(try JSONSerialization.jsonObject(with: VolleyJSON.encode(echo)) as? [String: Any])
        #expect(json["busy_poll_us"] as? Int == 50)
        #expect(try JobSpec.decode(json: VolleyJSON.encode(echo)) == echo)
        let plain = try decode(#"{"mode":"reflect","listen":"127.0.0.1:7"}"#)
        #expect(plain.busyPollMicroseconds == 0)
        let plainJSON = try #require(try JSONSerialization.jsonObject(with: VolleyJSON.encode(plain)) as? [String: Any])
        #expect(plainJSON["busy_poll_us"] == nil)
        #expect(try decode(#"{"mode":"reflect","listen":"127.0.0.1:7","busy_poll_us":10000}"#).busyPollMicroseconds == 10_000)
        #expect(failure(#"{"mode":"reflect","listen":"127.0.0.1:7","busy_poll_us":10001}"#)?.field == "busy_poll_us")
        #expect(failure(#"{"mode":"echo","target":"127.0.0.1:7","busy_poll_us":-1}"#)?.field == "busy_poll_us")
        #expect(failure(#"{"mode":"sink","listen":"127.0.0.1:7","busy_poll_us":5}"#)?.field == "busy_poll_us")
        let send = try decode(#"{"mode":"send","target":"127.0.0.1:7","rate_pps":1000,"busy_poll_us":300}"#)
        #expect(send.busyPollMicroseconds == 300)
        #expect(try JobSpec.decode(json: VolleyJSON.encode(send)) == send)
        #expect(try decode(#"{"mode":"send","target":"127.0.0.1:7","profile":[{"rate_pps":10,"duration_s":1}],"busy_poll_us":1}"#)
            .busyPollMicroseconds == 1)
        // A send at "max" never waits, so there is nothing to spin through: refused, not ignored.
        let unpaced = failure(#"{"mode":"send","target":"127.0.0.1:7","rate_pps":"max","busy_poll_us":5}"#)
        #expect(unpaced?.field == "busy_poll_us")
        #expect(unpaced?.message.contains("\"max\"") == true)
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:7","rate_pps":1000,"busy_poll_us":10001}"#)?.field == "busy_poll_us")
    }

    /// cpu_latency_us: every mode, 0...100000, absent unless given, and written back only then.
    @Test func cpuLatencyIsForEveryModeAndRoundTrips() throws {
        for mode in ["\"mode\":\"send\",\"target\"", "\"mode\":\"echo\",\"target\"",
                     "\"mode\":\"sink\",\"listen\"", "\"mode\":\"reflect\",\"listen\""] {
            let spec = try decode("{\(mode):\"127.0.0.1:7\",\"cpu_latency_us\":0}")
            #expect(spec.cpuLatencyMicroseconds == 0)
            let json = try #require(try JSONSerialization.jsonObject(with: VolleyJSON.encode(spec)) as? [String: Any])
            #expect(json["cpu_latency_us"] as? Int == 0)
            #expect(try JobSpec.decode(json: VolleyJSON.encode(spec)) == spec)
        }
        let plain = try decode(#"{"mode":"echo","target":"127.0.0.1:7"}"#)
        #expect(plain.cpuLatencyMicroseconds == nil)
        let plainJSON = try #require(try JSONSerialization.jsonObject(with: VolleyJSON.encode(plain)) as? [String: Any])
        #expect(plainJSON["cpu_latency_us"] == nil)
        #expect(try decode(#"{"mode":"sink","listen":"127.0.0.1:7","cpu_latency_us":100000}"#).cpuLatencyMicroseconds == 100_000)
        let over = failure(#"{"mode":"sink","listen":"127.0.0.1:7","cpu_latency_us":100001}"#)
        #expect(over?.field == "cpu_latency_us")
        #expect(over?.message.contains("0 to 100000") == true)
        #expect(failure(#"{"mode":"echo","target":"127.0.0.1:7","cpu_latency_us":-1}"#)?.field == "cpu_latency_us")
        #expect(failure(#"{"mode":"echo","target":"127.0.0.1:7","cpu_latency_us":"0"}"#)?.field == "cpu_latency_us")
        #expect(failure(#"{"mode":"echo","target":"127.0.0.1:7","cpu_latency_us":1.5}"#)?.field == "cpu_latency_us")
    }

    /// warm_up: echo only, a boolean, on by default, written back only when turned off.
    @Test func warmUpIsForEchoAndRoundTrips() throws {
        let plain = try decode(#"{"mode":"echo","target":"127.0.0.1:7"}"#)
        #expect(plain.warmUp)
        let plainJSON = try #require(try JSONSerialization.jsonObject(with: VolleyJSON.encode(plain)) as? [String: Any])
        #expect(plainJSON["warm_up"] == nil)
        let off = try decode(#"{"mode":"echo","target":"127.0.0.1:7","warm_up":false}"#)
        #expect(!off.warmUp)
        let json = try #require(try JSONSerialization.jsonObject(with: VolleyJSON.encode(off)) as? [String: Any])
        #expect(json["warm_up"] as? Bool == false)
        #expect(try JobSpec.decode(json: VolleyJSON.encode(off)) == off)
        #expect(failure(#"{"mode":"echo","target":"127.0.0.1:7","warm_up":"yes"}"#)?.field == "warm_up")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:7","warm_up":false}"#)?.field == "warm_up")
        #expect(failure(#"{"mode":"reflect","listen":"127.0.0.1:7","warm_up":true}"#)?.field == "warm_up")
        // Its socket per thread counts against the job's 1,024.
        let tooMany = failure(#"{"mode":"echo","target":"127.0.0.1:7","threads":16,"flows":64,"rate_pps":1000}"#)
        #expect(tooMany?.field == "flows" && tooMany?.message.contains("1040") == true && tooMany?.message.contains("warm_up") == true)
        #expect(try decode(#"{"mode":"echo","target":"127.0.0.1:7","threads":16,"flows":64,"rate_pps":1000,"warm_up":false}"#).flows == 64)
    }

    @Test func profileReplacesRateAndDuration() throws {
        let spec = try decode(#"{"mode":"send","target":"127.0.0.1:9","profile":[{"rate_pps":100,"duration_s":2},{"ramp_to_pps":500,"duration_s":1.5}]}"#)
        #expect(spec.durationSeconds == 3.5)
        #expect(spec.profile?.count == 2 && spec.profile?[1].rampToPPS == 500)
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":5,"profile":[{"rate_pps":1,"duration_s":1}]}"#)?.field == "profile")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","duration_s":5,"profile":[{"rate_pps":1,"duration_s":1}]}"#)?.field == "profile")
    }

    @Test(arguments: [
        (#"[{"duration_s":1}]"#, "profile[0]"),
        (#"[{"rate_pps":1,"ramp_to_pps":2,"duration_s":1}]"#, "profile[0]"),
        (#"[{"rate_pps":1}]"#, "profile[0].duration_s"),
        (#"[{"rate_pps":1,"duration_s":0}]"#, "profile[0].duration_s"),
        (#"[{"rate_pps":1,"duration_s":1},{"rate_pps":-1,"duration_s":1}]"#, "profile[1].rate_pps"),
        (#"[{"rate_pps":1.5,"duration_s":1}]"#, "profile[0].rate_pps"),
        (#"[{"rate_pps":1,"duration_s":1,"burst":3}]"#, "profile[0].burst"),
        (#"[{"rate_pps":1,"duration_s":3000},{"rate_pps":1,"duration_s":700}]"#, "profile"),
        (#"[]"#, "profile"),
        (#""fast""#, "profile"),
    ])
    func badProfilesNameTheStep(profile: String, field: String) {
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","profile":\#(profile)}"#)?.field == field)
    }

    @Test func sizesAndPayloadChoicesExcludeEachOther() throws {
        let imix = try decode(#"{"mode":"send","target":"127.0.0.1:9","sizes":[{"bytes":64,"weight":7},{"bytes":1500,"weight":1}],"seed":9}"#)
        #expect(imix.sizes?.count == 2 && imix.seed == 9 && imix.largestPayload == 1500)
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","payload_bytes":64,"sizes":[{"bytes":64,"weight":1}]}"#)?.field == "sizes")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","payload_bytes":64,"payload_hex":"00"}"#)?.field == "payload_hex")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","sizes":[{"bytes":64,"weight":0}]}"#)?.field == "sizes[0].weight")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","sizes":[{"bytes":70000,"weight":1}]}"#)?.field == "sizes[0].bytes")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","sizes":[{"weight":1}]}"#)?.field == "sizes[0].bytes")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","seed":-1,"sizes":[{"bytes":1,"weight":1}]}"#)?.field == "seed")
        #expect(failure(#"{"mode":"echo","target":"127.0.0.1:9","payload_hex":"00"}"#)?.field == "payload_hex")
    }

    @Test(arguments: ["0", "abc", "zz", "0g"])
    func badHexIsRefused(hex: String) {
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","payload_hex":"\#(hex)"}"#)?.field == "payload_hex")
    }

    @Test func gsoNeedsUniformSizes() {
        let error = failure(#"{"mode":"send","target":"127.0.0.1:9","gso":true,"sizes":[{"bytes":64,"weight":1},{"bytes":128,"weight":1}]}"#)
        #expect(error?.field == "gso")
        #expect(error?.message.contains("sizes") == true)
        #expect(failure(#"{"mode":"sink","listen":"127.0.0.1:9","gso":true}"#)?.field == "gso")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","gro":true}"#)?.field == "gro")
    }

    @Test func echoPayloadMustHoldTheStamp() {
        let error = failure(#"{"mode":"echo","target":"127.0.0.1:9","payload_bytes":31}"#)
        #expect(error?.field == "payload_bytes")
        #expect(error?.message.contains("32") == true)
        #expect(failure(#"{"mode":"echo","target":"127.0.0.1:9","sizes":[{"bytes":64,"weight":1},{"bytes":20,"weight":1}]}"#)?.field == "sizes[1].bytes")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","payload_bytes":8}"#) == nil)  // send need not stamp
    }

    @Test func flowsAndTimeoutsHaveRanges() {
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","flows":0}"#)?.field == "flows")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","flows":64,"threads":17}"#)?.field == "flows")
        #expect(failure(#"{"mode":"echo","target":"127.0.0.1:9","echo_timeout_ms":60001}"#)?.field == "echo_timeout_ms")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","echo_timeout_ms":5}"#)?.field == "echo_timeout_ms")
    }
}

@Suite struct StoredSpecTests {
    @Test func storedSpecsDecodeAgainWhateverTheirShape() throws {
        let specs = [
            #"{"mode":"send","target":"127.0.0.1:9","profile":[{"rate_pps":100,"duration_s":2},{"ramp_to_pps":500,"duration_s":1}]}"#,
            #"{"mode":"echo","target":"[::1]:9","sizes":[{"bytes":64,"weight":3}],"seed":5,"id":"a.b","start_at":"2030-01-01T00:00:00.000Z"}"#,
            #"{"mode":"send","target":"127.0.0.1:9","payload_hex":"00ff"}"#,
            #"{"mode":"reflect","listen":"127.0.0.1:9","gro":true,"threads":2}"#,
        ]
        for text in specs {
            let spec = try decode(text)
            #expect(try JobSpec.decode(json: VolleyJSON.encode(spec)) == spec, "\(text)")
        }
    }

    @Test func nullMeansOmittedAndSeedNeedsSizes() throws {
        _ = try decode(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":null,"profile":[{"rate_pps":1,"duration_s":1}]}"#)
        _ = try decode(#"{"mode":"send","target":"127.0.0.1:9","payload_bytes":null,"sizes":[{"bytes":1,"weight":1}]}"#)
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","seed":4}"#)?.field == "seed")
        #expect(failure(#"{"mode":"send","target":"127.0.0.1:9","gso":true,"payload_bytes":0}"#)?.field == "gso")
        #expect(failure(#"{"mode":"echo","target":"127.0.0.1:9","echo_timeout_ms":0}"#)?.field == "echo_timeout_ms")
    }

    @Test func plannedAverageOfAProfile() throws {
        let spec = try decode(#"{"mode":"send","target":"127.0.0.1:9","profile":[{"rate_pps":1000,"duration_s":1},{"ramp_to_pps":3000,"duration_s":2},{"rate_pps":0,"duration_s":1}]}"#)
        #expect(spec.plannedAveragePPS == (1_000 + 4_000) / 4)
    }

    @Test func resultsWrittenBeforeTimelinesExistedStillRead() throws {
        let old = #"{"agent":{"hostname":"h","version":"0.1.0"},"elapsed_s":1,"finished_at":"2026-11-26T18:24:19.530Z","id":"j1","io":{"receive":"recvmmsg","send":"sendmmsg"},"rate":{"achieved_bps":0,"achieved_pps":0,"target_pps":0},"received":{"bytes":0,"errors":{},"packets":0,"syscalls":0},"sent":{"bytes":0,"errors":{},"packets":0,"partial_batches":0,"syscalls":0},"spec":{"batch":64,"duration_s":3,"listen":"127.0.0.1:9000","max_packets":0,"mode":"sink","tags":{},"threads":1},"started_at":"2026-11-26T18:24:16.528Z","state":"completed"}"#
        let result = try VolleyJSON.decode(JobResult.self, from: Data(old.utf8))
        #expect(result.timeline.isEmpty && result.state == .completed)
    }
}

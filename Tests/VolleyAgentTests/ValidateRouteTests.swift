import Foundation
import Testing
import VolleyEngine
import VolleyTestSupport
@testable import VolleyAgent
@testable import VolleyModel

/// `POST /v1/validate`: the submission's checks and errors, and what the job would do, without a job,
/// a reservation or a socket.
@Suite(.serialized) struct ValidateRouteTests {
    private static func inAMinute() -> String { Timestamp(Date().addingTimeInterval(60)).description }

    private func budgetInUse(_ h: AgentHarness) async throws -> (memory: Int?, sockets: Int?, jobs: Int?) {
        let budget = try await h.client.get("/v1/agent").json["budget"] as? [String: Any]
        return (budget?["memory_in_use_bytes"] as? Int, budget?["sockets_in_use"] as? Int, budget?["active_jobs"] as? Int)
    }

    /// Each refusal is the one a submission gets: same status, code and field.
    @Test func refusalsAreTheSubmissionsAndNameTheField() async throws {
        let h = try AgentHarness { $0.limits.maxRatePPS = 5_000 }
        defer { h.agent.shutdown() }
        let cases: [(String, Int, String, String?)] = [
            (#"{"mode":"send","target":"192.0.2.53:53","rate_pps":100}"#, 403, "target_not_allowed", "target"),
            (#"{"mode":"sink","listen":"0.0.0.0:9000"}"#, 403, "target_not_allowed", "listen"),
            (#"{"mode":"send","target":"127.0.0.1:9","rate_pps":6000}"#, 403, "limit_exceeded", "rate_pps"),
            (#"{"mode":"send","target":"127.0.0.1:9"}"#, 200, "", nil),  // the default 1,000 pps is under the cap
            (#"{"mode":"send","target":"127.0.0.1:9","rate_pps":"max"}"#, 403, "limit_exceeded", "rate_pps"),
            (#"{"mode":"send","target":"127.0.0.1:9","batch":0}"#, 400, "invalid_spec", "batch"),
            ("{nope", 400, "bad_json", nil),
            ("", 400, "bad_json", nil),
        ]
        for (body, status, code, field) in cases {
            let checked = try await h.client.post("/v1/validate", json: body)
            #expect(checked.status == status, "\(body): \(String(decoding: checked.body, as: UTF8.self))")
            guard status != 200 else { continue }
            #expect(checked.errorCode == code && checked.errorField == field, "\(body)")
            let submitted = try await h.submit(body)
            #expect(submitted.status == status && submitted.errorCode == code && submitted.errorField == field, "\(body)")
            #expect(checked.errorMessage == submitted.errorMessage, "\(body)")
        }
        #expect(try await h.client.get("/v1/jobs").json["jobs"] as? [Any] != nil)
    }

    /// A valid spec: what it would do, and no job, no reservation, no socket.
    @Test func aValidSpecIsSummarisedAndCreatesNothing() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let before = try await budgetInUse(h)
        #expect(before.memory == 0 && before.sockets == 0 && before.jobs == 0)
        let body = #"{"mode":"send","target":"127.0.0.1:9","duration_s":3,"rate_pps":2000,"payload_bytes":100,"flows":2}"#
        let reply = try await h.client.post("/v1/validate", json: body)
        #expect(reply.status == 200, "\(String(decoding: reply.body, as: UTF8.self))")
        let p = reply.json
        let footprint = JobFootprint(spec: try JobSpec.decode(json: Data(body.utf8)))
        #expect(p["mode"] as? String == "send" && p["endpoint"] as? String == "127.0.0.1:9")
        #expect(p["rate_pps"] as? Int == 2_000 && p["rate_bps"] as? Int == 1_600_000 && p["rate_is_default"] as? Bool == false)
        #expect(p["duration_s"] as? Double == 3 && p["total_s"] as? Double == 3)
        #expect(p["datagrams"] as? Int == 6_000 && p["bytes"] as? Int == 600_000)
        #expect(p["memory_bytes"] as? Int == footprint.memoryBytes && p["sockets"] as? Int == 2)
        #expect(p["admission"] as? String == "starts_now")
        #expect(p["job_id"] is NSNull)
        let spec = try #require(p["spec"] as? [String: Any])
        #expect(spec["batch"] as? Int == 64 && spec["threads"] as? Int == 1 && spec["rate_pps"] as? Int == 2_000)
        #expect((try await h.client.get("/v1/jobs").json["jobs"] as? [Any])?.isEmpty == true)
        let after = try await budgetInUse(h)
        #expect(after.memory == 0 && after.sockets == 0 && after.jobs == 0)

        // No socket either: a listen port another process holds is fine here, refused on submission.
        let holder = UDPCounter()
        defer { _ = holder.drain() }
        let sink = #"{"mode":"sink","listen":"127.0.0.1:\#(holder.port)","duration_s":1}"#
        let sinkCheck = try await h.client.post("/v1/validate", json: sink)
        #expect(sinkCheck.status == 200 && sinkCheck.json["rate_pps"] is NSNull && sinkCheck.json["datagrams"] is NSNull)
        #expect(try await h.submit(sink).status == 409)

        // Defaults said as such.
        let plain = try await h.client.post("/v1/validate", json: #"{"mode":"send","target":"127.0.0.1:9"}"#).json
        #expect(plain["rate_is_default"] as? Bool == true && plain["rate_pps"] as? Int == 1_000)
        #expect(plain["duration_s"] as? Double == 10 && plain["datagrams"] as? Int == 10_000)
    }

    /// When it would start: scheduled, an existing job with the same id, and a budget already spoken for.
    @Test func admissionFollowsTheAgentsState() async throws {
        let h = try AgentHarness {
            $0.limits.maxJobMemoryBytes = 40 << 20
            $0.limits.maxMemoryBytes = 64 << 20
        }
        defer { h.agent.shutdown() }
        let big = #"{"mode":"send","id":"big-one","target":"127.0.0.1:9","batch":512,"payload_bytes":65507,"rate_pps":10,"start_at":"\#(Self.inAMinute())"}"#
        let first = try await h.client.post("/v1/validate", json: big)
        #expect(first.status == 200 && first.json["admission"] as? String == "scheduled")
        _ = try await h.start(big)
        let held = try await budgetInUse(h)
        let again = try await h.client.post("/v1/validate", json: big)
        #expect(again.status == 200 && again.json["admission"] as? String == "exists" && again.json["job_id"] as? String == "big-one")
        let other = big.replacingOccurrences(of: "big-one", with: "big-two")
        let refused = try await h.client.post("/v1/validate", json: other)
        #expect(refused.status == 429 && refused.errorCode == "budget_exhausted" && refused.errorField == "payload_bytes")
        let conflict = try await h.client.post("/v1/validate", json: big.replacingOccurrences(of: "\"rate_pps\":10", with: "\"rate_pps\":11"))
        #expect(conflict.status == 409 && conflict.errorCode == "id_conflict" && conflict.errorField == "id")
        let after = try await budgetInUse(h)
        #expect(after.memory == held.memory && after.jobs == 1)
        #expect((try await h.client.get("/v1/jobs").json["jobs"] as? [Any])?.count == 1)
    }
}

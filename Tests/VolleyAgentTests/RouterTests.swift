import Foundation
import Testing
import VolleyModel
import VolleyTestSupport
@testable import VolleyAgent

/// The API's routes called in-process (no HTTP server, no port): statuses, shapes and the job
/// lifecycle as the router answers them. These run in parallel and in milliseconds; the live-server
/// suites (APITests, BrowserSafetyTests, ConnectionHygieneTests…) keep what needs real HTTP.
@Suite struct RouterTests {
    static func later(_ id: String) -> String {
        #"{"id":"\#(id)","mode":"send","target":"127.0.0.1:9","rate_pps":10,"start_at":"\#(Timestamp(Date().addingTimeInterval(3600)))"}"#
    }

    @Test func healthAgentMetricsAndUnknownPaths() throws {
        let a = try InProcessAgent()
        defer { a.shutdown() }
        #expect(a.request("GET", "/v1/health").json["status"] as? String == "ok")
        #expect(a.request("HEAD", "/v1/health").status == 200)
        let store = a.request("GET", "/v1/agent").json["store"] as? [String: Any]
        #expect(store?["pending_writes"] as? Int == 0 && store?["failed_writes"] as? Int == 0)
        #expect(String(decoding: a.request("GET", "/metrics").body, as: UTF8.self).contains("volley_jobs"))
        let missing = a.request("GET", "/v2/nothing")
        #expect(missing.status == 404 && missing.errorCode == "not_found")
        let wrong = a.request("PUT", "/v1/jobs")
        #expect(wrong.status == 405 && wrong.errorCode == "method_not_allowed")
        #expect(a.request("GET", "/v1/jobs/bad%zz").status == 404)
    }

    @Test func submissionIsIdempotentByIDAndConflictsOnAnotherSpec() throws {
        let a = try InProcessAgent()
        defer { a.shutdown() }
        let spec = Self.later("one")
        #expect(a.request("POST", "/v1/jobs", json: spec).status == 201)
        #expect(a.request("POST", "/v1/jobs", json: spec).status == 200)
        let again = a.request("POST", "/v1/jobs", json: #"{"id":"one","mode":"send","target":"127.0.0.1:10"}"#)
        #expect(again.status == 409 && again.errorCode == "id_conflict")
        let empty = a.request("POST", "/v1/jobs", json: "")
        #expect(empty.status == 400 && empty.errorCode == "bad_json")
        let dup = a.request("POST", "/v1/jobs", json: #"{"mode":"send","target":"127.0.0.1:9","target":"127.0.0.2:9"}"#)
        #expect(dup.status == 400 && dup.errorCode == "invalid_spec")
    }

    @Test func aJobRunsToItsResultAndIsDeleted() throws {
        let a = try InProcessAgent()
        defer { a.shutdown() }
        let counter = UDPCounter()
        let id = try a.start(#"{"mode":"send","target":"127.0.0.1:\#(counter.port)","duration_s":0.2,"rate_pps":500}"#)
        #expect(a.request("GET", "/v1/jobs/\(id)/result").errorCode == "not_finished" || a.jobs.job(id)?.state == .completed)
        #expect(a.wait { a.jobs.job(id)?.state == .completed })
        let result = a.request("GET", "/v1/jobs/\(id)/result").json
        let sent = (result["sent"] as? [String: Any])?["packets"] as? Int
        #expect(sent != nil && sent == counter.drain().packets)
        #expect(a.request("GET", "/v1/jobs/\(id)/report").status == 200)
        #expect(a.request("POST", "/v1/jobs/\(id)/cancel", json: "").errorCode == "not_active")
        #expect(a.request("DELETE", "/v1/jobs/\(id)").status == 204)
        #expect(a.request("GET", "/v1/jobs/\(id)").status == 404)
    }

    @Test func pagesAreNewestFirstAndCursorsSurviveDeletion() throws {
        let a = try InProcessAgent()
        defer { a.shutdown() }
        for i in 0..<5 { _ = try a.start(Self.later("p\(i)")) }
        let first = a.request("GET", "/v1/jobs?limit=2").json
        #expect((first["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["p4", "p3"])
        #expect(first["next"] as? String == "p3")
        #expect(a.request("POST", "/v1/jobs/p3/cancel", json: "").status == 202)
        #expect(a.request("DELETE", "/v1/jobs/p3").status == 204)
        let second = a.request("GET", "/v1/jobs?limit=2&after=p3").json
        #expect((second["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["p2", "p1"])
        #expect(a.request("GET", "/v1/jobs?state=cancelled").json["jobs"].map { ($0 as? [Any])?.count } == 0)
        #expect(a.request("GET", "/v1/jobs?limit=0").errorCode == "invalid_query")
        #expect(a.request("GET", "/v1/jobs?after=nope").errorCode == "invalid_query")
    }
}

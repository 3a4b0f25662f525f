import Foundation
import Testing
@testable import VolleyAgent

/// The API threads lower their priority only while traffic runs (`JobManager.trafficRuns`): an
/// idle agent's API keeps the default priority.
@Suite struct TrafficFlagTests {
    @Test func trafficRunsFromTheStartOfAJobToItsEnd() async throws {
        let a = try InProcessAgent()
        defer { a.shutdown() }
        #expect(!a.jobs.trafficRuns)
        let created = a.request("POST", "/v1/jobs", json: #"{"mode":"send","target":"127.0.0.1:9","rate_pps":100,"duration_s":60}"#)
        #expect(created.status == 201)
        let id = try #require(created.json["id"] as? String)
        #expect(a.jobs.trafficRuns)  // a job that starts now begins within its POST
        #expect(a.request("POST", "/v1/jobs/\(id)/cancel").status == 202)
        let deadline = Date().addingTimeInterval(30)
        while a.request("GET", "/v1/jobs/\(id)").json["state"] as? String != "cancelled", Date() < deadline {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        #expect(a.request("GET", "/v1/jobs/\(id)").json["state"] as? String == "cancelled")
        #expect(!a.jobs.trafficRuns)  // counted down before the job is marked finished
    }
}

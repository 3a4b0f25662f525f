import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyAgent
@testable import VolleyModel

@Suite(.serialized) struct APITests {
    @Test func healthAndAgentInfo() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let health = try await h.client.get("/v1/health")
        #expect(health.status == 200)
        #expect(health.header("Content-Type") == "application/json")
        #expect(health.json["status"] as? String == "ok")
        let info = try await h.client.get("/v1/agent").json
        #expect(info["name"] as? String == "volley")
        #expect(info["version"] as? String == Volley.version)
        #expect((info["hostname"] as? String)?.isEmpty == false)
        let time = try #require(info["time"] as? String)
        #expect(time.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
        let caps = try #require(info["capabilities"] as? [String: Bool])
        #expect(Set(caps.keys) == ["sendmmsg", "recvmmsg", "udp_gso", "udp_gro", "cpu_latency"])
    }

    @Test func specErrorsNameTheField() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let cases: [(String, Int, String, String?)] = [
            ("{nope", 400, "bad_json", nil),
            ("", 400, "bad_json", nil),
            (#"{"mode":"send","target":"127.0.0.1:9","batch":"big"}"#, 400, "invalid_spec", "batch"),
            (#"{"mode":"send","target":"127.0.0.1:9","threads":65}"#, 400, "invalid_spec", "threads"),
            (#"{"mode":"send","target":"127.0.0.1:9","colour":"red"}"#, 400, "invalid_spec", "colour"),
            (#"{"mode":"send"}"#, 400, "invalid_spec", "target"),
            (#"{"mode":"send","target":"[2001:db8::1]:53"}"#, 403, "target_not_allowed", "target"),
            (#"{"mode":"sink","listen":"0.0.0.0:9000"}"#, 403, "target_not_allowed", "listen"),
            (#"{"mode":"send","target":"127.0.0.1:9","gso":true,"sizes":[{"bytes":64,"weight":1},{"bytes":65,"weight":1}]}"#, 400, "invalid_spec", "gso"),
            (#"{"mode":"send","target":"127.0.0.1:9","rate_pps":10,"profile":[{"rate_pps":5,"duration_s":1}]}"#, 400, "invalid_spec", "profile"),
            (#"{"mode":"echo","target":"127.0.0.1:9","payload_bytes":16}"#, 400, "invalid_spec", "payload_bytes"),
            (#"{"mode":"reflect","listen":"[2001:db8::1]:9"}"#, 403, "target_not_allowed", "listen"),
        ]
        for (body, status, code, field) in cases {
            let reply = try await h.client.request("POST", "/v1/jobs", body: Data(body.utf8))
            #expect(reply.status == status, "\(body)")
            #expect(reply.errorCode == code, "\(body)")
            #expect(reply.errorField == field, "\(body)")
            #expect((reply.json["error"] as? [String: Any])?["message"] is String)
        }
    }

    @Test func routingErrors() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let unknownRoute = try await h.client.get("/v2/nothing")
        #expect(unknownRoute.status == 404 && unknownRoute.errorCode == "not_found")
        let wrongMethod = try await h.client.request("DELETE", "/v1/health")
        #expect(wrongMethod.status == 405 && wrongMethod.errorCode == "method_not_allowed")
        #expect(wrongMethod.header("Allow") == "GET, HEAD")
        let putJobs = try await h.client.request("PUT", "/v1/jobs")
        #expect(putJobs.status == 405 && putJobs.header("Allow") == "GET, HEAD, POST")
        for id in ["nope", "..", ".hidden", "a%20b", "%2E%2E%2Fetc", String(repeating: "x", count: 65)] {
            let reply = try await h.client.get("/v1/jobs/\(id)/result")
            #expect(reply.status == 404, "\(id)")
            #expect(reply.errorCode == "not_found", "\(id)")
        }
        let big = try await h.client.request("POST", "/v1/jobs", body: Data(repeating: 0x20, count: 64 * 1024 + 1))
        #expect(big.status == 413 && big.errorCode == "body_too_large")
        #expect(try await h.client.get("/v1/health").status == 200)
    }

    @Test func jobLifecycleAndStoredResult() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let port = freeUDPPort()
        let sink = try await h.submit(#"{"mode":"sink","listen":"127.0.0.1:\#(port)","duration_s":1.2,"tags":{"t":"<x>"}}"#)
        #expect(sink.status == 201)
        let sinkID = try #require(sink.json["id"] as? String)
        #expect(sink.header("Location") == "/v1/jobs/\(sinkID)")
        #expect(sink.json["state"] as? String == "running")
        #expect((sink.json["spec"] as? [String: Any])?["batch"] as? Int == 64)

        let clash = try await h.submit(#"{"mode":"sink","listen":"127.0.0.1:\#(port)","duration_s":1}"#)
        #expect(clash.status == 409 && clash.errorCode == "address_in_use" && clash.errorField == "listen")

        let notYet = try await h.client.get("/v1/jobs/\(sinkID)/result")
        #expect(notYet.status == 409 && notYet.errorCode == "not_finished")

        let sendID = try await h.start(#"{"mode":"send","target":"127.0.0.1:\#(port)","duration_s":0.5,"rate_pps":4000,"payload_bytes":48}"#)
        try await Task.sleep(nanoseconds: 250_000_000)
        let live = try await h.client.get("/v1/jobs/\(sendID)").json
        #expect(live["state"] as? String == "running")
        #expect(((live["progress"] as? [String: Any])?["packets_sent"] as? Int ?? 0) > 0)

        let sendJob = try await h.client.waitForJob(sendID)
        let sinkJob = try await h.client.waitForJob(sinkID)
        #expect(sendJob["state"] as? String == "completed" && sinkJob["state"] as? String == "completed")
        #expect(sendJob["finished_at"] is String)

        let sendResult = try await h.client.get("/v1/jobs/\(sendID)/result")
        let sinkResult = try await h.client.get("/v1/jobs/\(sinkID)/result")
        #expect(sendResult.status == 200 && sinkResult.status == 200)
        #expect(try Data(contentsOf: h.resultFile(sendID)) == sendResult.body)
        #expect(try Data(contentsOf: h.resultFile(sinkID)) == sinkResult.body)
        let sent = try #require(sendResult.json["sent"] as? [String: Any])
        let received = try #require(sinkResult.json["received"] as? [String: Any])
        #expect((sent["packets"] as? Int ?? 0) > 1_500)
        #expect(sent["packets"] as? Int == received["packets"] as? Int)
        #expect(sent["bytes"] as? Int == (sent["packets"] as? Int ?? -1) * 48)
        let rate = try #require(sendResult.json["rate"] as? [String: Any])
        #expect(rate["target_pps"] as? Int == 4000)
        #expect(abs((rate["achieved_pps"] as? Double ?? 0) - 4000) < 200)
        #expect((sinkResult.json["spec"] as? [String: Any])?["tags"] as? [String: String] == ["t": "<x>"])
        #expect((sendResult.json["agent"] as? [String: Any])?["version"] as? String == Volley.version)
    }
}

@Suite(.serialized) struct ReportRouteTests {
    @Test func reportRouteAnswersHTMLOnlyForFinishedJobs() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        #expect(try await h.client.get("/v1/jobs/jmissing/report").status == 404)
        let long = try await h.start(#"{"mode":"send","target":"127.0.0.1:\#(freeUDPPort())","duration_s":30,"rate_pps":100,"tags":{"t":"<b>x</b>"}}"#)
        let early = try await h.client.get("/v1/jobs/\(long)/report")
        #expect(early.status == 409 && early.errorCode == "not_finished")
        _ = try await h.client.post("/v1/jobs/\(long)/cancel", json: "")
        _ = try await h.client.waitForJob(long)
        let report = try await h.client.get("/v1/jobs/\(long)/report")
        #expect(report.status == 200 && report.header("Content-Type")?.hasPrefix("text/html") == true)
        let html = String(decoding: report.body, as: UTF8.self)
        #expect(html.contains("&lt;b&gt;x&lt;/b&gt;") && !html.contains("<b>x</b>"))
        #expect(html.contains("the job ended cancelled"))
    }
}

@Suite(.serialized) struct EscapedPathTests {
    /// Encoded "?" and "/" stay inside their path segment: they can never reach another route.
    @Test func escapesCannotReachOtherRoutes() throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let base = "http://127.0.0.1:\(h.agent.port)"
        func curl(_ method: String, _ path: String) throws -> String {
            let code = try runCommand(URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-o", "/dev/null", "-w", "%{http_code}",
                                                                                 "-H", "Content-Type: application/json", "-X", method, base + path]).output
            return code
        }
        let created = try runCommand(URL(fileURLWithPath: "/usr/bin/curl"), [
            "-s", "--json", #"{"mode":"send","target":"127.0.0.1:9","duration_s":0.1,"rate_pps":100,"id":"victim"}"#, base + "/v1/jobs",
        ]).output
        let id = try #require((try JSONSerialization.jsonObject(with: Data(created.utf8)) as? [String: Any])?["id"] as? String)
        Thread.sleep(forTimeInterval: 0.4)
        #expect(try curl("POST", "/v1/jobs/abc%3Fdef/cancel") == "404")
        #expect(try curl("DELETE", "/v1/jobs/\(id)%3F/report") == "405")  // the report route, wrong method
        #expect(try curl("GET", "/v1/jobs/\(id)%2Fresult") == "404")
        #expect(try curl("GET", "/v1%2Fagent") == "404")
        #expect(try curl("GET", "/v1/jobs%3Fstate=bogus") == "404")
        #expect(try curl("GET", "/v1/jobs/vict%69m") == "200")          // a plain escape still decodes
        #expect(try curl("GET", "/v1/jobs?state=com%70leted") == "200")
        #expect(try curl("GET", "/v1/jobs/%zz") == "404")
        let after = try curl("GET", "/v1/jobs/\(id)")
        #expect(after == "200", "\(after)")                                // nothing was deleted
    }

    @Test func resubmittingAScheduledJobAfterItsStartIsStillIdempotent() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let at = Timestamp(Date().addingTimeInterval(0.3))
        let spec = #"{"mode":"send","target":"127.0.0.1:9","id":"sched-retry","start_at":"\#(at)","duration_s":0.2,"rate_pps":100}"#
        #expect(try await h.submit(spec).status == 201)
        try await Task.sleep(nanoseconds: 1_600_000_000)
        let retry = try await h.submit(spec)
        #expect(retry.status == 200 && retry.json["id"] as? String == "sched-retry")
    }
}

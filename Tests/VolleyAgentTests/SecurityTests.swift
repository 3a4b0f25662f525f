import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyAgent
@testable import VolleyModel

@Suite(.serialized) struct SecurityTests {
    @Test func tokenGuardsEverythingButHealth() async throws {
        let h = try AgentHarness { $0.token = "s3cret-token" }
        defer { h.agent.shutdown() }
        let anonymous = HTTPClient(port: h.agent.port)
        let wrong = HTTPClient(port: h.agent.port, token: "s3cret-tokeN")
        #expect(try await anonymous.get("/v1/health").status == 200)
        for client in [anonymous, wrong] {
            for path in ["/v1/agent", "/v1/jobs", "/metrics", "/v1/nowhere"] {
                let reply = try await client.get(path)
                #expect(reply.status == 401, "\(path)")
                #expect(reply.errorCode == "unauthorized")
                #expect(reply.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            }
            #expect(try await client.post("/v1/jobs", json: #"{"mode":"send","target":"127.0.0.1:9"}"#).status == 401)
        }
        #expect(try await h.client.get("/v1/agent").status == 200)
        #expect(try await h.client.get("/v1/jobs").status == 200)
    }

    @Test func constantTimeComparisonIsStillAComparison() {
        #expect(AccessGate.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!AccessGate.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!AccessGate.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!AccessGate.constantTimeEqual([], Array("a".utf8)))
    }

    @Test func limitsRefuseSpecsThatAskForMore() async throws {
        let h = try AgentHarness {
            $0.limits.maxRatePPS = 1_000
            $0.limits.maxDurationSeconds = 10
            $0.limits.maxThreads = 2
            $0.limits.maxPayloadBytes = 512
        }
        defer { h.agent.shutdown() }
        let cases: [(String, String)] = [
            (#"{"mode":"send","target":"127.0.0.1:9","rate_pps":1001}"#, "rate_pps"),
            (#"{"mode":"send","target":"127.0.0.1:9","rate_pps":"max"}"#, "rate_pps"),
            (#"{"mode":"echo","target":"127.0.0.1:9","rate_pps":10,"duration_s":9.5}"#, "duration_s"),  // + 1 s echo wait
            (#"{"mode":"send","target":"127.0.0.1:9","profile":[{"rate_pps":10,"duration_s":1},{"ramp_to_pps":5000,"duration_s":1}]}"#, "profile"),
            (#"{"mode":"send","target":"127.0.0.1:9","rate_pps":10,"duration_s":11}"#, "duration_s"),
            (#"{"mode":"sink","listen":"127.0.0.1:9","duration_s":11}"#, "duration_s"),
            (#"{"mode":"send","target":"127.0.0.1:9","rate_pps":10,"threads":3}"#, "threads"),
            (#"{"mode":"send","target":"127.0.0.1:9","rate_pps":10,"payload_bytes":513}"#, "payload_bytes"),
            (#"{"mode":"send","target":"127.0.0.1:9","rate_pps":10,"sizes":[{"bytes":64,"weight":1},{"bytes":1500,"weight":1}]}"#, "sizes"),
        ]
        for (body, field) in cases {
            let reply = try await h.submit(body)
            #expect(reply.status == 403 && reply.errorCode == "limit_exceeded" && reply.errorField == field, "\(body)")
            let message = (reply.json["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains("--max-"), "\(message)")
        }
        #expect(try await h.submit(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":1000,"duration_s":0.1}"#).status == 201)
    }

    @Test func metricsExposeJobsTrafficAndRequests() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let counter = UDPCounter()
        let id = try await h.start(#"{"mode":"send","target":"127.0.0.1:\#(counter.port)","duration_s":10,"rate_pps":5000,"max_packets":777}"#)
        _ = try await h.client.waitForJob(id)
        // A threshold that cannot pass: one failed verdict (the first job had no thresholds: none counted).
        let failing = try await h.start(#"{"mode":"send","target":"127.0.0.1:\#(counter.port)","duration_s":0.2,"rate_pps":1000,"max_packets":100,"thresholds":{"sent":{"min":1000000}}}"#)
        _ = try await h.client.waitForJob(failing)
        _ = counter.drain()
        let reply = try await h.client.get("/metrics")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type")?.hasPrefix("text/plain") == true)
        let text = String(decoding: reply.body, as: UTF8.self)
        #expect(text.contains(#"volley_jobs{state="completed"} 2"#))
        #expect(text.contains(#"volley_packets_sent_total{mode="send"} 877"#))
        #expect(text.contains(#"volley_bytes_sent_total{mode="send"} \#(877 * 64)"#))
        #expect(text.contains(#"volley_verdicts_total{verdict="failed",mode="send"} 1"#))
        #expect(text.contains(#"volley_verdicts_total{verdict="passed",mode="send"} 0"#))
        #expect(text.contains(#"volley_packets_sent_total{mode="echo"} 0"#))
        #expect(text.contains(#"volley_jobs_finished_total{state="completed",mode="send"} 2"#))
        #expect(text.contains(#"volley_jobs_finished_total{state="failed",mode="send"} 0"#))
        #expect(text.contains(#"volley_kernel_drops_total{mode="sink"} 0"#))
        // The two send jobs' worker threads used some CPU; no sink ran.
        let cpu = text.split(separator: "\n").first { $0.hasPrefix(#"volley_worker_cpu_seconds_total{mode="send"} "#) }
        #expect(cpu.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 > 0 } == true, "\(cpu ?? "no line")")
        #expect(text.contains(#"volley_worker_cpu_seconds_total{mode="sink"} 0"#))
        #expect(text.contains("volley_jobs_running 0"))
        #expect(text.contains(#"volley_build_info{version="\#(Volley.version)"} 1"#))
        #expect(text.contains(#"volley_http_requests_total{route="/v1/jobs",status="201"} 2"#))
    }

    @Test func storageFailureFailsTheJobNotTheAgent() async throws {
        let dir = AgentProcess.temporaryDirectory()
        let h = try AgentHarness(dataDirectory: dir)
        defer { h.agent.shutdown() }
        // Root ignores permissions, so make the results folder impossible instead: a plain file.
        let results = dir.appendingPathComponent("results")
        try FileManager.default.removeItem(at: results)
        try Data("not a folder".utf8).write(to: results)
        let id = try await h.start(#"{"mode":"send","target":"127.0.0.1:\#(freeUDPPort())","duration_s":0.1,"rate_pps":100}"#)
        let job = try await h.client.waitForJob(id)
        #expect(job["state"] as? String == "failed")
        #expect((job["error"] as? [String: Any])?["code"] as? String == "storage_error")
        #expect(try await h.client.get("/v1/health").status == 200)
        let result = try await h.client.get("/v1/jobs/\(id)/result")
        #expect(result.status == 500 && result.errorCode == "storage_error")
    }
}

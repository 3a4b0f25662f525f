import Foundation
import Glibc
import Testing
import VolleyTestSupport

/// The real `volley serve` binary on a free port, driven by a real HTTP client.
@Suite(.serialized) struct EndToEndTests {
    @Test func sinkAndSendOverHTTPAgreeExactly() async throws {
        let agent = try AgentProcess()
        defer { agent.stop() }
        let client = agent.client
        let port = freeUDPPort()
        let sink = try await client.post("/v1/jobs", json: #"{"mode":"sink","listen":"127.0.0.1:\#(port)","duration_s":2.5,"batch":64}"#)
        #expect(sink.status == 201)
        let send = try await client.post("/v1/jobs", json: #"{"mode":"send","target":"127.0.0.1:\#(port)","duration_s":1,"rate_pps":50000,"payload_bytes":64,"batch":64,"threads":1,"max_packets":0,"tags":{"run":"e2e"}}"#)
        #expect(send.status == 201)
        let sinkID = try #require(sink.json["id"] as? String)
        let sendID = try #require(send.json["id"] as? String)

        #expect(try await client.waitForJob(sendID)["state"] as? String == "completed")
        #expect(try await client.waitForJob(sinkID)["state"] as? String == "completed")

        let sendResult = try await client.get("/v1/jobs/\(sendID)/result")
        let sinkResult = try await client.get("/v1/jobs/\(sinkID)/result")
        let sent = try #require((sendResult.json["sent"] as? [String: Any])?["packets"] as? Int)
        let received = try #require((sinkResult.json["received"] as? [String: Any])?["packets"] as? Int)
        #expect(sent > 40_000)
        #expect(sent == received)

        for (id, reply) in [(sendID, sendResult), (sinkID, sinkResult)] {
            let file = agent.dataDirectory.appendingPathComponent("results/\(id).json")
            #expect(try Data(contentsOf: file) == reply.body)
        }
        #expect(try await client.get("/v1/health").status == 200)
    }

    @Test func errorCasesAnswerWithTheirCodesAndTheAgentStaysHealthy() async throws {
        let agent = try AgentProcess()
        defer { agent.stop() }
        let client = agent.client
        let checks: [(String, String, String?, Int, String)] = [
            ("POST", "/v1/jobs", "{\"mode\":", 400, "bad_json"),
            ("POST", "/v1/jobs", #"{"mode":"send","target":"127.0.0.1:9","payload_bytes":70000}"#, 400, "invalid_spec"),
            ("POST", "/v1/jobs", #"{"mode":"send","target":"127.0.0.1:9","extra":1}"#, 400, "invalid_spec"),
            ("POST", "/v1/jobs", #"{"mode":"send","target":"[2001:db8::1]:9"}"#, 403, "target_not_allowed"),
            ("GET", "/v1/jobs/j-missing", nil, 404, "not_found"),
            ("GET", "/v1/jobs/j-missing/result", nil, 404, "not_found"),
            ("GET", "/v1/nowhere", nil, 404, "not_found"),
            ("PUT", "/v1/jobs", nil, 405, "method_not_allowed"),
        ]
        for (method, path, body, status, code) in checks {
            let reply = try await client.request(method, path, body: body.map { Data($0.utf8) })
            #expect(reply.status == status, "\(method) \(path) \(body ?? "")")
            #expect(reply.errorCode == code, "\(method) \(path) \(body ?? "")")
        }
        let payload = try await client.post("/v1/jobs", json: #"{"mode":"send","target":"127.0.0.1:9","payload_bytes":70000}"#)
        #expect(payload.errorField == "payload_bytes")
        #expect(try await client.get("/v1/health").status == 200)
    }

    @Test func sigtermStopsRunningJobsAndKeepsTheirResults() async throws {
        let agent = try AgentProcess()
        let port = freeUDPPort()
        let reply = try await agent.client.post("/v1/jobs", json: #"{"mode":"sink","listen":"127.0.0.1:\#(port)","duration_s":600}"#)
        let id = try #require(reply.json["id"] as? String)
        #expect(agent.stop() == 0)
        let stored = try Data(contentsOf: agent.dataDirectory.appendingPathComponent("results/\(id).json"))
        let json = try #require(try JSONSerialization.jsonObject(with: stored) as? [String: Any])
        #expect(json["state"] as? String == "cancelled")

        // A new agent on the same folder serves the same bytes.
        let again = try AgentProcess(dataDirectory: agent.dataDirectory)
        defer { again.stop() }
        #expect(try await again.client.get("/v1/jobs/\(id)/result").body == stored)
    }

    @Test func badCommandLinesExitNonZeroWithAMessage() throws {
        let bin = AgentProcess.binary
        let badListen = try runCommand(bin, ["serve", "--listen", "nowhere"])
        #expect(badListen.status != 0)
        #expect(badListen.output.contains("--listen"))
        let badAllow = try runCommand(bin, ["serve", "--allow", "10.0.0.0/99"])
        #expect(badAllow.status != 0)
        #expect(badAllow.output.contains("--allow"))
        let file = AgentProcess.temporaryDirectory().appendingPathComponent("f")
        try Data().write(to: file)
        let badDir = try runCommand(bin, ["serve", "--listen", "127.0.0.1:0", "--data-dir", file.path + "/sub"])
        #expect(badDir.status != 0)
        #expect(badDir.output.contains("data folder") && badDir.output.contains("Not a directory"), "\(badDir.output)")
        // The issue's cases: a file where the folder should be, and an empty path (once the current folder).
        let fileDir = try runCommand(bin, ["serve", "--listen", "127.0.0.1:0", "--data-dir", file.path])
        #expect(fileDir.status != 0 && fileDir.output.contains("is a file, not a folder") && !fileDir.output.contains("NSCocoa"),
                "\(fileDir.output)")
        let emptyDir = try runCommand(bin, ["serve", "--listen", "127.0.0.1:0", "--data-dir", ""])
        #expect(emptyDir.status != 0 && emptyDir.output.contains("--data-dir is empty"), "\(emptyDir.output)")
        let version = try runCommand(bin, ["version"])
        #expect(version.status == 0 && version.output.hasPrefix("volley "))
    }

    @Test func ipv6ListenerWorks() throws {
        let agent = try AgentProcess(host: "::1")
        defer { agent.stop() }
        // Foundation's URLSession on Linux rejects bracketed IPv6 URLs, so curl is the client here.
        let reply = try runCommand(URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "http://[::1]:\(agent.port)/v1/health"])
        #expect(reply.status == 0)
        #expect(reply.output.contains(#"{"status":"ok"}"#))
    }
}

import Foundation
import Glibc
import Testing
import VolleyTestSupport

/// The real binary killed and restarted: what the data folder promises.
@Suite(.serialized) struct DurabilityTests {
    @Test func killDashNineLeavesFinishedResultsAndInterruptsTheRest() async throws {
        let agent = try AgentProcess()
        let client = agent.client
        let counter = UDPCounter()
        let done = try #require(try await client.post("/v1/jobs", json: #"{"mode":"send","target":"127.0.0.1:\#(counter.port)","duration_s":0.2,"rate_pps":1000}"#).json["id"] as? String)
        _ = try await client.waitForJob(done)
        let finishedBytes = try await client.get("/v1/jobs/\(done)/result").body
        let running = try #require(try await client.post("/v1/jobs", json: #"{"mode":"send","target":"127.0.0.1:\#(counter.port)","duration_s":60,"rate_pps":2000}"#).json["id"] as? String)
        let future = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
        let scheduled = try #require(try await client.post("/v1/jobs", json: #"{"mode":"sink","listen":"127.0.0.1:\#(freeUDPPort())","duration_s":1,"start_at":"\#(future)"}"#).json["id"] as? String)
        try await Task.sleep(nanoseconds: 2_300_000_000)  // at least two checkpoints
        agent.kill9()

        let again = try AgentProcess(dataDirectory: agent.dataDirectory)
        defer { again.stop() }
        #expect(try await again.client.get("/v1/jobs/\(done)/result").body == finishedBytes)
        for id in [running, scheduled] {
            let job = try await again.client.get("/v1/jobs/\(id)").json
            #expect(job["state"] as? String == "interrupted", "\(id)")
            #expect((job["error"] as? [String: Any])?["code"] as? String == "interrupted")
            let result = try await again.client.get("/v1/jobs/\(id)/result")
            #expect(result.status == 200 && result.json["state"] as? String == "interrupted")
        }
        let progress = try await again.client.get("/v1/jobs/\(running)").json["progress"] as? [String: Any]
        #expect((progress?["packets_sent"] as? Int ?? 0) >= 2_000)  // the last checkpoint's counts survived
        _ = counter.drain()
    }

    @Test func sigtermCancelsRunningJobsAndExitsWithin2Seconds() async throws {
        let agent = try AgentProcess()
        let id = try #require(try await agent.client.post("/v1/jobs", json: #"{"mode":"send","target":"127.0.0.1:\#(freeUDPPort())","duration_s":60,"rate_pps":1000}"#).json["id"] as? String)
        try await Task.sleep(nanoseconds: 200_000_000)
        let asked = Date()
        #expect(agent.stop() == 0)
        #expect(Date().timeIntervalSince(asked) < 2)
        let file = agent.dataDirectory.appendingPathComponent("results/\(id).json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
        #expect(json?["state"] as? String == "cancelled")
    }

    @Test func tlsRoundTripWithASelfSignedPair() throws {
        let dir = AgentProcess.temporaryDirectory()
        let cert = dir.appendingPathComponent("cert.pem").path
        let key = dir.appendingPathComponent("key.pem").path
        let made = try runCommand(URL(fileURLWithPath: "/usr/bin/openssl"), [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-keyout", key, "-out", cert,
        ])
        try #require(made.status == 0, "\(made.output)")
        let agent = try AgentProcess(arguments: ["--tls-cert", cert, "--tls-key", key])
        defer { agent.stop() }
        let curl = URL(fileURLWithPath: "/usr/bin/curl")
        let https = try runCommand(curl, ["-sS", "--cacert", cert, "https://127.0.0.1:\(agent.port)/v1/health"])
        #expect(https.status == 0 && https.output.contains(#"{"status":"ok"}"#), "\(https.output)")
        let plain = try runCommand(curl, ["-sS", "--max-time", "3", "http://127.0.0.1:\(agent.port)/v1/health"])
        #expect(!plain.output.contains(#"{"status":"ok"}"#))
    }

    @Test func openListenWithoutTokenIsRefused() throws {
        let refused = try runCommand(AgentProcess.binary, ["serve", "--listen", "0.0.0.0:0", "--data-dir",
                                                           AgentProcess.temporaryDirectory().path])
        #expect(refused.status != 0)
        #expect(refused.output.contains("--token-file") && refused.output.contains("--insecure-no-auth"))
        let tokenFile = AgentProcess.temporaryDirectory().appendingPathComponent("token")
        try Data("t0ken\n".utf8).write(to: tokenFile)
        let withToken = try AgentProcess(arguments: ["--token-file", tokenFile.path], host: "0.0.0.0")
        defer { withToken.stop() }
        let open = try runCommand(URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-o", "/dev/null", "-w", "%{http_code}",
                                                                          "http://127.0.0.1:\(withToken.port)/v1/agent"])
        #expect(open.output == "401")
        let insecure = try AgentProcess(arguments: ["--insecure-no-auth"], host: "0.0.0.0")
        defer { insecure.stop() }
    }

    @Test func jsonLogsAreOneObjectPerLine() throws {
        let dir = AgentProcess.temporaryDirectory()
        let process = Process()
        let pipe = Pipe()
        process.executableURL = AgentProcess.binary
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path, "--log-format", "json"]
        process.standardError = pipe
        try process.run()
        Thread.sleep(forTimeInterval: 1)
        process.terminate()
        process.waitUntilExit()
        let lines = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        #expect(lines.count >= 3)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] is String && object?["message"] is String && object?["ts"] is String, "\(line)")
        }
        #expect(lines.contains { $0.contains("listening on http://127.0.0.1:") })
    }
}

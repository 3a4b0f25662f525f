import Foundation
import Testing
import VolleyTestSupport

/// `volley validate`, offline and against a real agent (`--agent`), with its exit statuses.
@Suite(.serialized) struct ValidateCommandTests {
    private func volley(_ arguments: [String], env: [String: String] = [:]) throws -> (status: Int32, output: String) {
        try runCommand(AgentProcess.binary, arguments, environment: env)
    }

    private func specFile(_ text: String, name: String = "spec.json") throws -> String {
        let url = AgentProcess.temporaryDirectory().appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// Offline it cannot know the allowlist, and says so; an absent rate is the default, said as such.
    @Test func offlineSaysWhatItCouldNotCheck() throws {
        let run = try volley(["validate", try specFile(#"{"mode":"send","target":"192.0.2.53:53","payload_bytes":1200}"#)])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("rate      1,000 pps, 9.60 Mbit/s (the default; set rate_pps, rate_bps, or \"max\")"), "\(run.output)")
        #expect(run.output.contains("duration  10 s"))
        #expect(run.output.contains("datagrams 10,000 of 1,200 bytes (12.0 MB of payload)"), "\(run.output)")
        #expect(run.output.contains("agent     not asked: its allowlist, limits and budget are not checked (use --agent URL)"))
        let bits = try volley(["validate", try specFile(#"{"mode":"send","target":"127.0.0.1:9","rate_bps":50000000,"payload_bytes":1250,"duration_s":2}"#)])
        #expect(bits.output.contains("rate      5,000 pps, 50.0 Mbit/s\n"), "\(bits.output)")
        #expect(bits.output.contains("datagrams 10,000 of 1,250 bytes (12.5 MB of payload)"), "\(bits.output)")
    }

    /// With --agent the agent judges: its allowlist refuses (2, naming the field), a valid spec is
    /// summarised with when it would start (0) and leaves no job, a wrong token is 3, no agent is 1.
    @Test func theAgentChecksItsAllowlistAndLimits() async throws {
        let tokenFile = AgentProcess.temporaryDirectory().appendingPathComponent("token")
        try Data("right-token".utf8).write(to: tokenFile)
        let wrongFile = AgentProcess.temporaryDirectory().appendingPathComponent("wrong")
        try Data("wrong-token".utf8).write(to: wrongFile)
        let agent = try AgentProcess(arguments: ["--token-file", tokenFile.path, "--max-rate-pps", "5000"])
        defer { _ = agent.stop() }
        let url = "http://127.0.0.1:\(agent.port)"
        let outside = try specFile(#"{"mode":"send","target":"192.0.2.53:53"}"#, name: "outside.json")
        let refused = try volley(["validate", outside, "--agent", url, "--token-file", tokenFile.path])
        #expect(refused.status == 2, "\(refused.output)")
        #expect(refused.output.contains("target_not_allowed, field 'target'") && refused.output.contains("192.0.2.53"), "\(refused.output)")
        let tooFast = try volley(["validate", try specFile(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":6000}"#, name: "fast.json"),
                                  "--agent", url, "--token-file", tokenFile.path])
        #expect(tooFast.status == 2 && tooFast.output.contains("field 'rate_pps'") && tooFast.output.contains("--max-rate-pps"), "\(tooFast.output)")

        let good = try specFile(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":2000,"duration_s":3}"#, name: "good.json")
        let valid = try volley(["validate", good, "--agent", url], env: ["VOLLEY_TOKEN": "right-token"])
        #expect(valid.status == 0, "\(valid.output)")
        #expect(valid.output.contains("rate      2,000 pps, 1.02 Mbit/s\n") && valid.output.contains("datagrams 6,000 of 64 bytes"), "\(valid.output)")
        #expect(valid.output.contains("agent     \(url) accepts it (allowlist, limits, budget): it would start now"), "\(valid.output)")
        let jobs = try await HTTPClient(port: agent.port, token: "right-token").get("/v1/jobs").json["jobs"] as? [Any]
        #expect(jobs?.isEmpty == true)

        let badToken = try volley(["validate", good, "--agent", url, "--token-file", wrongFile.path])
        #expect(badToken.status == 3, "\(badToken.output)")
        let invalid = try volley(["validate", try specFile(#"{"mode":"send","target":"127.0.0.1:9","batch":0}"#, name: "bad.json"),
                                  "--agent", url, "--token-file", tokenFile.path])
        #expect(invalid.status == 2 && invalid.output.contains("field 'batch'"), "\(invalid.output)")
        let nobody = try volley(["validate", good, "--agent", "http://127.0.0.1:1"])
        #expect(nobody.status == 1 && nobody.output.contains("cannot reach"), "\(nobody.output)")
    }
}

import Foundation
import Testing
import VolleyTestSupport

/// `volley run MODE --flags` and `volley pair` as a user types them (stdout piped: JSON comes out).
@Suite(.serialized) struct QuickRunTests {
    private func volley(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runCommand(AgentProcess.binary, arguments)
    }

    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    @Test func badQuickFlagsExitTwoNamingTheFlag() throws {
        let cases: [([String], String)] = [
            (["run", "send", "--target", "127.0.0.1:9", "--rate", "fast"], "--rate 'fast'"),
            (["run", "send", "--target", "127.0.0.1:9", "--bitrate", "10mbit"], "--bitrate '10mbit'"),
            (["run", "send", "--target", "127.0.0.1:9", "--time", "5x"], "--time '5x'"),
            (["run", "send", "--target", "127.0.0.1:9", "--size", "70000"], "invalid --size"),
            (["run", "send", "--listen", "127.0.0.1:9"], "needs --target"),
            (["run", "sink", "--target", "127.0.0.1:9"], "needs --listen"),
            (["run", "send", "--target", "nowhere", "--time", "1s"], "invalid --target"),
            (["run", "send", "--target", "127.0.0.1:9", "--rate", "1k", "--bitrate", "1M"], "not both"),
            (["pair", "--target", "127.0.0.1:9"], "--listen"),
        ]
        for (arguments, message) in cases {
            let run = try volley(arguments)
            #expect(run.status == 2, "\(arguments): \(run.output)")
            #expect(run.output.contains(message) && !run.output.contains("Stack"), "\(arguments): \(run.output)")
        }
    }

    @Test func runSendWithQuickFlagsSendsExactlyWhatWasAsked() throws {
        let run = try volley(["run", "send", "--target", "127.0.0.1:9", "--rate", "2k", "--size", "100", "--time", "1s"])
        #expect(run.status == 0, "\(run.output)")
        let result = try json(run.output)
        let sent = try #require(result["sent"] as? [String: Any])
        #expect(sent["packets"] as? Int == 2_000 && sent["bytes"] as? Int == 200_000)
    }

    @Test func pairSendCountsEveryDatagramWithJitter() throws {
        let run = try volley(["pair", "--rate", "5k", "--size", "64", "--time", "1s", "--max-loss", "0"])
        #expect(run.status == 0, "\(run.output)")
        let pair = try json(run.output)
        let sent = try #require((pair["sender"] as? [String: Any])?["sent"] as? [String: Any])
        let receiver = try #require(pair["receiver"] as? [String: Any])
        let received = try #require(receiver["received"] as? [String: Any])
        #expect(sent["packets"] as? Int == 5_000 && received["packets"] as? Int == 5_000)
        #expect(receiver["state"] as? String == "completed")
        #expect(pair["loss_ratio"] as? Double == 0)
        let jitter = try #require(pair["jitter_us"] as? Double)
        #expect(jitter.isFinite && jitter >= 0)
        #expect((receiver["sequence"] as? [String: Any])?["jitter_us"] as? Double == jitter)
        #expect((pair["verdict"] as? [String: Any])?["passed"] as? Bool == true)
    }

    @Test func pairEchoGetsEveryReplyAndRTT() throws {
        let run = try volley(["pair", "--mode", "echo", "--rate", "2k", "--time", "1s"])
        #expect(run.status == 0, "\(run.output)")
        let pair = try json(run.output)
        let echo = try #require((pair["sender"] as? [String: Any])?["echo"] as? [String: Any])
        #expect(echo["sent"] as? Int == 2_000 && echo["received"] as? Int == 2_000)
        #expect(pair["loss_ratio"] as? Double == 0)
        let latency = try #require((pair["sender"] as? [String: Any])?["latency_us"] as? [String: Any])
        #expect(latency["count"] as? Int == 2_000)
        #expect((pair["receiver"] as? [String: Any])?["state"] as? String == "completed")
    }

    @Test func aFailedThresholdExitsFour() throws {
        // No loopback round trip takes under 1 µs.
        let run = try volley(["pair", "--mode", "echo", "--rate", "1k", "--time", "300ms", "--max-rtt-p99", "1"])
        #expect(run.status == 4, "\(run.output)")
        let verdict = try #require(try json(run.output)["verdict"] as? [String: Any])
        #expect(verdict["passed"] as? Bool == false)
        let checks = try #require(verdict["checks"] as? [[String: Any]])
        #expect(checks.contains { $0["metric"] as? String == "rtt_us.p99" && $0["passed"] as? Bool == false })
    }
}

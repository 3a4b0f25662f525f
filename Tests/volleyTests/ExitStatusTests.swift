import Foundation
import Testing
import VolleyTestSupport

/// The exit statuses of the README's table, each from a real command line.
@Suite(.serialized) struct ExitStatusTests {
    private func specFile(_ text: String) throws -> String {
        let url = AgentProcess.temporaryDirectory().appendingPathComponent("spec.json")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    private func resultFile() -> String { AgentProcess.temporaryDirectory().appendingPathComponent("result.json").path }

    private func verdict(at path: String) throws -> [String: Any] {
        let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        return try #require(result["verdict"] as? [String: Any])
    }

    @Test func aBadCommandLineIsInvalidInputLikeABadSpec() throws {
        #expect(try runCommand(AgentProcess.binary, ["run", "--no-such-flag", "x.json"]).status == 2)
        #expect(try runCommand(AgentProcess.binary, ["no-such-command"]).status == 2)
        let badThreshold = try runCommand(AgentProcess.binary, ["run", try specFile(
            #"{"mode":"send","target":"127.0.0.1:9","thresholds":{"rtt_us.p99":{"max":5}}}"#)])
        #expect(badThreshold.status == 2 && badThreshold.output.contains("thresholds.rtt_us.p99"), "\(badThreshold.output)")
    }

    @Test func aFailedThresholdExitsFourAndAPassedOneZero() throws {
        // Nothing answers on this port: every echo is lost.
        let port = freeUDPPort()
        let out = resultFile()
        let lost = try runCommand(AgentProcess.binary, ["run", try specFile(
            #"{"mode":"echo","target":"127.0.0.1:\#(port)","duration_s":0.3,"rate_pps":200,"echo_timeout_ms":100,"thresholds":{"loss_ratio":{"max":0.001}}}"#),
            "--out", out, "--progress", "none"])
        #expect(lost.status == 4, "\(lost.output)")
        let failed = try verdict(at: out)
        #expect(failed["passed"] as? Bool == false)
        let check = try #require((failed["checks"] as? [[String: Any]])?.first { $0["metric"] as? String == "loss_ratio" })
        #expect(check["value"] as? Double == 1 && check["severity"] as? String == "threshold")

        let sent = try runCommand(AgentProcess.binary, ["run", try specFile(
            #"{"mode":"send","target":"127.0.0.1:\#(port)","duration_s":0.3,"rate_pps":200,"thresholds":{"sent":{"min":1}}}"#),
            "--out", out, "--progress", "none"])
        #expect(sent.status == 0, "\(sent.output)")
        #expect(try verdict(at: out)["passed"] as? Bool == true)
    }

    @Test func withoutThresholdsAJobThatLostEverythingWarnsButExitsZero() throws {
        let out = resultFile()
        let run = try runCommand(AgentProcess.binary, ["run", try specFile(
            #"{"mode":"echo","target":"127.0.0.1:\#(freeUDPPort())","duration_s":0.3,"rate_pps":200,"echo_timeout_ms":100}"#),
            "--out", out, "--progress", "none"])
        #expect(run.status == 0, "\(run.output)")
        let v = try verdict(at: out)
        #expect(v["passed"] as? Bool == true)
        let warned = (v["checks"] as? [[String: Any]] ?? []).filter { $0["passed"] as? Bool == false }
        #expect(warned.map { $0["metric"] as? String } == ["loss_ratio"])
        #expect(warned.first?["severity"] as? String == "warning")
    }

    @Test func submitWaitExitsFourWhenTheAgentsVerdictFails() async throws {
        let agent = try AgentProcess()
        defer { agent.stop() }
        let env = ["VOLLEY_AGENT": "http://127.0.0.1:\(agent.port)"]
        let spec = try specFile(#"{"mode":"sink","listen":"127.0.0.1:\#(freeUDPPort())","duration_s":0.3,"thresholds":{"received":{"min":1}}}"#)
        let waited = try runCommand(AgentProcess.binary, ["submit", spec, "--wait", "--progress", "none"], environment: env)
        #expect(waited.status == 4, "\(waited.output)")
        let listed = try await agent.client.get("/v1/jobs")
        let id = try #require(((listed.json["jobs"] as? [[String: Any]])?.first)?["id"] as? String)
        let result = try await agent.client.get("/v1/jobs/\(id)/result")
        let verdict = try #require(result.json["verdict"] as? [String: Any])
        #expect(verdict["passed"] as? Bool == false)
    }

    @Test func ctrlCStopsTheJobAndExits130WithThePartialResult() throws {
        let process = Process()
        process.executableURL = AgentProcess.binary
        let out = resultFile()
        process.arguments = ["run", try specFile(#"{"mode":"sink","listen":"127.0.0.1:\#(freeUDPPort())","duration_s":120}"#),
                             "--out", out, "--progress", "plain"]
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        // The first progress line says the job runs (and its SIGINT handler is in place).
        let firstLine = stderr.fileHandleForReading.availableData
        #expect(!firstLine.isEmpty)
        // Caught without a signalfd: the kernel wakes every signalfd of a process on any signal to
        // any of its threads, so an echo worker's timer signals would wake its reader mid round trip.
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd")
        let signalfds = fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process.processIdentifier)/fd/\($0)")) == "anon_inode:[signalfd]" }
        #expect(signalfds.isEmpty, "volley run holds a signalfd: \(signalfds)")
        process.interrupt()
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(result["state"] as? String == "cancelled")
    }
}

import Foundation
import Testing
import VolleyTestSupport

/// Whole command lines of the `volley` binary, as a user types them.
@Suite(.serialized) struct CLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func volley(_ arguments: [String], env: [String: String] = [:]) throws -> (status: Int32, output: String) {
        try runCommand(AgentProcess.binary, arguments, environment: env)
    }

    /// A spec file with `text` in a temp folder.
    private func specFile(_ text: String) throws -> String {
        let url = AgentProcess.temporaryDirectory().appendingPathComponent("spec.json")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test func everyExampleValidates() throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("examples").path)
            .filter { $0.hasSuffix(".json") }
        #expect(examples.count >= 6)
        for name in examples {
            let run = try volley(["validate", Self.root.appendingPathComponent("examples/\(name)").path])
            #expect(run.status == 0, "\(name): \(run.output)")
            #expect(run.output.hasPrefix("valid: "))
        }
    }

    /// validate says what a spec will really do: rate (default or "max"), duration, datagrams, memory.
    @Test func validateSaysWhatTheSpecWillDo() throws {
        let plain = try volley(["validate", try specFile(#"{"mode":"send","target":"127.0.0.1:9","duration_s":5}"#)])
        #expect(plain.status == 0)
        #expect(plain.output.contains("rate      1,000 pps, 512 kbit/s (the default; set rate_pps, rate_bps, or \"max\")"), "\(plain.output)")
        #expect(plain.output.contains("datagrams 5,000 of 64 bytes"))
        #expect(plain.output.contains("memory") && plain.output.contains("1 socket"))
        let max = try volley(["validate", try specFile(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":"max","threads":2,"flows":3}"#)])
        #expect(max.output.contains("as fast as possible (\"max\")") && max.output.contains("6 sockets"), "\(max.output)")
        let zero = try volley(["validate", try specFile(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":0}"#)])
        #expect(zero.status == 2 && zero.output.contains("\"max\""))
    }

    @Test func invalidSpecsExitTwoNamingTheField() throws {
        let run = try volley(["validate", try specFile(#"{"mode":"send","target":"127.0.0.1:9","batch":0}"#)])
        #expect(run.status == 2)
        #expect(run.output.contains("field 'batch'") && !run.output.contains("Stack"))
        let missing = try volley(["validate", "/nonexistent/spec.json"])
        #expect(missing.status != 0 && missing.output.contains("cannot read"))
    }

    @Test func runSendsAndSinksInProcessWithExactCounts() throws {
        let port = freeUDPPort()
        let sinkOut = AgentProcess.temporaryDirectory().appendingPathComponent("sink.json").path
        let sink = Process()
        sink.executableURL = AgentProcess.binary
        sink.arguments = ["run", try specFile(#"{"mode":"sink","listen":"127.0.0.1:\#(port)","duration_s":2}"#), "--out", sinkOut]
        try sink.run()
        Thread.sleep(forTimeInterval: 0.3)
        let send = try volley(["run", try specFile(#"{"mode":"send","target":"127.0.0.1:\#(port)","duration_s":0.5,"rate_pps":10000}"#)])
        sink.waitUntilExit()
        #expect(send.status == 0 && sink.terminationStatus == 0)
        let sent = try #require((try JSONSerialization.jsonObject(with: Data(send.output.utf8)) as? [String: Any])?["sent"] as? [String: Any])
        let received = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sinkOut))) as? [String: Any])?["received"] as? [String: Any])
        #expect((sent["packets"] as? Int ?? 0) > 4_000)
        #expect(sent["packets"] as? Int == received["packets"] as? Int)
    }

    @Test func runRefusesTargetsOutsideLoopbackByDefault() throws {
        let run = try volley(["run", try specFile(#"{"mode":"send","target":"[2001:db8::1]:53","duration_s":1}"#)])
        #expect(run.status != 0 && run.output.contains("allowlist"))
    }

    @Test func clientCommandsTalkToAnAgent() async throws {
        let agent = try AgentProcess()
        defer { agent.stop() }
        let env = ["VOLLEY_AGENT": "http://127.0.0.1:\(agent.port)"]
        let port = freeUDPPort()
        let waited = try volley(["submit", try specFile(#"{"mode":"send","target":"127.0.0.1:\#(port)","duration_s":0.3,"rate_pps":2000}"#),
                                 "--wait", "--progress", "none"], env: env)
        #expect(waited.status == 0, "\(waited.output)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(waited.output.utf8)) as? [String: Any])
        let id = try #require(result["id"] as? String)
        #expect(result["state"] as? String == "completed")
        let stored = try volley(["result", id], env: env)
        let file = try Data(contentsOf: agent.dataDirectory.appendingPathComponent("results/\(id).json"))
        #expect(stored.status == 0 && Data(stored.output.utf8) == file)
        #expect(try volley(["status", id], env: env).output.contains(#""state":"completed""#))
        let long = try volley(["submit", try specFile(#"{"mode":"sink","listen":"127.0.0.1:\#(port)","duration_s":60}"#)], env: env)
        let longID = try #require((try JSONSerialization.jsonObject(with: Data(long.output.utf8)) as? [String: Any])?["id"] as? String)
        let listed = try volley(["jobs", "--state", "running"], env: env)
        #expect(listed.status == 0 && listed.output.contains(longID) && !listed.output.contains(id))
        let cancelled = try volley(["cancel", longID], env: env)
        #expect(cancelled.status == 0)
        #expect(try volley(["jobs", "--json"], env: env).output.contains(#""jobs""#))
    }

    @Test func clientErrorsAreOneLineWithNonZeroExit() throws {
        let unreachable = try volley(["status", "j1", "--agent", "http://127.0.0.1:1"])
        #expect(unreachable.status != 0)
        #expect(unreachable.output.hasPrefix("volley: cannot reach the agent") && unreachable.output.split(separator: "\n").count == 1)
        let tokenFile = AgentProcess.temporaryDirectory().appendingPathComponent("token")
        try Data("right".utf8).write(to: tokenFile)
        let agent = try AgentProcess(arguments: ["--token-file", tokenFile.path])
        defer { agent.stop() }
        let url = "http://127.0.0.1:\(agent.port)"
        let denied = try volley(["jobs", "--agent", url], env: ["VOLLEY_TOKEN": "wrong"])
        #expect(denied.status == 3 && denied.output.contains("401 unauthorized"))
        let allowed = try volley(["jobs", "--agent", url, "--token-file", tokenFile.path])
        #expect(allowed.status == 0)
        let missing = try volley(["status", "nope", "--agent", url], env: ["VOLLEY_TOKEN": "right"])
        #expect(missing.status == 1 && missing.output.contains("404 not_found"))
    }

    /// A token file written on Windows still works; an unreadable, empty or unsendable one stops the
    /// agent at start-up instead of falling back to VOLLEY_TOKEN.
    @Test func tokenFilesAreTrimmedOrRefused() throws {
        let folder = AgentProcess.temporaryDirectory()
        let crlf = folder.appendingPathComponent("crlf")
        try Data("s3cret-token\r\n".utf8).write(to: crlf)
        let agent = try AgentProcess(arguments: ["--token-file", crlf.path])
        defer { agent.stop() }
        let url = "http://127.0.0.1:\(agent.port)"
        #expect(try volley(["jobs", "--agent", url], env: ["VOLLEY_TOKEN": "s3cret-token"]).status == 0)
        let empty = folder.appendingPathComponent("empty")
        try Data("\r\n".utf8).write(to: empty)
        let spaced = folder.appendingPathComponent("spaced")
        try Data("two words".utf8).write(to: spaced)
        for (file, words) in [(folder.appendingPathComponent("absent").path, "cannot be read"), (empty.path, "is empty"),
                              (spaced.path, "token68")] {
            let run = try volley(["serve", "--listen", "127.0.0.1:0", "--data-dir", folder.path, "--token-file", file],
                                 env: ["VOLLEY_TOKEN": "fallback"])
            #expect(run.status != 0 && run.output.contains(words), "\(file): \(run.output)")
        }
    }

    @Test func versionFlagAndCommandAgree() throws {
        let flag = try volley(["--version"])
        let command = try volley(["version"])
        #expect(flag.status == 0 && command.status == 0)
        #expect(flag.output.hasPrefix("volley ") && flag.output == command.output, "\(flag.output) / \(command.output)")
    }

    @Test func everyCommandsHelpHasAnExample() throws {
        for command in ["serve", "run", "submit", "status", "result", "cancel", "jobs", "validate", "version"] {
            let help = try volley([command, "--help"])
            #expect(help.status == 0 && help.output.contains("Example"), "\(command)")
        }
    }

    @Test func scriptsWorkAgainstALiveAgentAndFailLoudly() throws {
        let agent = try AgentProcess()
        defer { agent.stop() }
        let env = ["VOLLEY_AGENT": "http://127.0.0.1:\(agent.port)"]
        let bash = URL(fileURLWithPath: "/bin/bash")
        let scripts = Self.root.appendingPathComponent("scripts")
        let sinkSend = try runCommand(bash, [scripts.appendingPathComponent("sink-and-send.sh").path, "\(freeUDPPort())", "5000", "0.5"], environment: env)
        #expect(sinkSend.status == 0, "\(sinkSend.output)")
        let counts = sinkSend.output.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(counts?["sent"] as? Int != nil && counts?["sent"] as? Int == counts?["received"] as? Int)
        let echo = try runCommand(bash, [scripts.appendingPathComponent("echo-latency.sh").path, "\(freeUDPPort())", "500", "0.5"], environment: env)
        #expect(echo.status == 0 && echo.output.contains(#""lost":0"#), "\(echo.output)")
        let spec = try specFile(#"{"mode":"send","target":"127.0.0.1:\#(freeUDPPort())","duration_s":0.5,"rate_pps":500}"#)
        let fan = try runCommand(bash, [scripts.appendingPathComponent("fan-out.sh").path, spec, env["VOLLEY_AGENT"]!], environment: env)
        #expect(fan.status == 0)
        let id = try #require(fan.output.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        let watch = try runCommand(bash, [scripts.appendingPathComponent("watch-job.sh").path, id], environment: env)
        #expect(watch.status == 0 && watch.output.contains("completed"), "\(watch.output)")
        let broken = try runCommand(bash, [scripts.appendingPathComponent("fan-out.sh").path, spec, "http://127.0.0.1:1"], environment: env)
        #expect(broken.status != 0 && broken.output.contains("FAILED"))
        let down = try runCommand(bash, [scripts.appendingPathComponent("sink-and-send.sh").path], environment: ["VOLLEY_AGENT": "http://127.0.0.1:1"])
        #expect(down.status != 0)
    }
}

@Suite struct ReportCommandTests {
    @Test func reportRendersAJobResultAndRefusesOtherJSON() throws {
        let dir = AgentProcess.temporaryDirectory()
        let resultFile = dir.appendingPathComponent("result.json").path
        let spec = dir.appendingPathComponent("spec.json")
        try Data(#"{"mode":"send","target":"127.0.0.1:\#(freeUDPPort())","duration_s":0.3,"rate_pps":1000}"#.utf8).write(to: spec)
        #expect(try runCommand(AgentProcess.binary, ["run", spec.path, "--out", resultFile]).status == 0)
        let html = dir.appendingPathComponent("report.html").path
        let made = try runCommand(AgentProcess.binary, ["report", resultFile, "-o", html])
        #expect(made.status == 0, "\(made.output)")
        let text = try String(contentsOfFile: html, encoding: .utf8)
        #expect(text.hasPrefix("<!DOCTYPE html>") && text.contains("<svg"))
        let refused = try runCommand(AgentProcess.binary, ["report", spec.path])
        #expect(refused.status == 2 && refused.output.contains("neither a job result nor a fleet result"))
    }
}

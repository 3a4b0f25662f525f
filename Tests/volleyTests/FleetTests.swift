import Foundation
import Histogram
import Testing
import VolleyFleet
import VolleyModel
import VolleyTestSupport

/// `volley fleet run` against real agents on 127.0.0.2, .3 and .4.
@Suite(.serialized) struct FleetTests {
    private func volley(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runCommand(AgentProcess.binary, arguments)
    }

    private func specFile(_ text: String) throws -> String {
        let url = AgentProcess.temporaryDirectory().appendingPathComponent("spec.json")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    private func threeAgents() throws -> [AgentProcess] {
        try ["127.0.0.2", "127.0.0.3", "127.0.0.4"].map { try AgentProcess(host: $0) }
    }

    private func url(_ agent: AgentProcess, _ host: String) -> String { "http://\(host):\(agent.port)" }

    private func readFleet(_ path: String) throws -> FleetResult {
        try VolleyJSON.decode(FleetResult.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func threeAgentsStartTogetherAndTheirCountsAddUpExactly() async throws {
        let agents = try threeAgents()
        defer { agents.forEach { $0.stop() } }
        let receivers = (0..<3).map { _ in UDPCounter() }
        let out = AgentProcess.temporaryDirectory().appendingPathComponent("fleet.json").path
        let urls = zip(agents, ["127.0.0.2", "127.0.0.3", "127.0.0.4"]).map { url($0, $1) }.joined(separator: ",")
        let targets = receivers.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
        let run = try volley(["fleet", "run", try specFile(#"{"mode":"send","target":"127.0.0.1:9","duration_s":1,"rate_pps":9000}"#),
                              "--agents", urls, "--split-rate", "--vary", "target=\(targets)", "--lead", "1", "--out", out])
        #expect(run.status == 0, "\(run.output)")
        let fleet = try readFleet(out)
        let merged = try #require(fleet.merged)
        var perAgent: [UInt64] = []
        for (agent, outcome) in zip(agents, fleet.agents) {
            let id = try #require(outcome.jobID)
            let result = try VolleyJSON.decode(JobResult.self, from: try await agent.client.get("/v1/jobs/\(id)/result").body)
            #expect(result.spec.ratePPS == 3_000)
            perAgent.append(result.sent.packets)
            // The table's SENT column is the agent's own count; a send job's RECEIVED is a dash.
            #expect(outcome.sent == result.sent.packets && outcome.received == 0)
            let row = try #require(run.output.split(separator: "\n").first { $0.hasPrefix(outcome.url + " ") })
            let cells = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            #expect(cells.count >= 6 && cells[4] == grouped(result.sent.packets) && cells[5] == "-", "\(row)")
        }
        let arrived = receivers.map { UInt64($0.drain().packets) }
        #expect(merged.sent.packets == perAgent.reduce(0, +))
        #expect(arrived == perAgent)
        #expect(abs(Double(merged.sent.packets) - 9_000) <= 9_000 * 0.01)
        let skew = try #require(fleet.startSkewMs)
        #expect(skew <= TestTiming.limit(0.05) * 1000, "start skew \(skew) ms")
        print("fleet start skew across three local agents: \(skew) ms; start delays: \(fleet.agents.compactMap(\.startDelayMs)) ms")
        #expect(run.output.contains("start skew"))
    }

    @Test func mergedPercentilesComeFromTheSumOfTheHistograms() async throws {
        let agents = try threeAgents()
        defer { agents.forEach { $0.stop() } }
        let reflector = MisbehavingReflector(dropEvery: 1_000_000, doubleEvery: 1_000_000, swapAt: nil)
        defer { reflector.stop() }
        let out = AgentProcess.temporaryDirectory().appendingPathComponent("fleet.json").path
        let urls = zip(agents, ["127.0.0.2", "127.0.0.3", "127.0.0.4"]).map { url($0, $1) }.joined(separator: ",")
        let run = try volley(["fleet", "run", try specFile(#"{"mode":"echo","target":"127.0.0.1:\#(reflector.port)","duration_s":1,"rate_pps":1500,"echo_timeout_ms":300}"#),
                              "--agents", urls, "--lead", "0.5", "--out", out])
        #expect(run.status == 0, "\(run.output)")
        let fleet = try readFleet(out)
        var all = LatencySummary.makeHistogram()
        var echoed: UInt64 = 0
        for (agent, outcome) in zip(agents, fleet.agents) {
            let result = try VolleyJSON.decode(JobResult.self, from: try await agent.client.get("/v1/jobs/\(outcome.jobID!)/result").body)
            all.add(try HDREncoding.decode(try #require(result.latency?.hdr)))
            echoed += result.echo?.received ?? 0
            #expect(outcome.sent == result.sent.packets && outcome.received == result.echo?.received)
            let row = try #require(run.output.split(separator: "\n").first { $0.hasPrefix(outcome.url + " ") })
            let cells = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            #expect(cells.count >= 6 && cells[4] == grouped(result.sent.packets) && cells[5] == grouped(result.echo?.received ?? 0), "\(row)")
        }
        let latency = try #require(fleet.merged?.latency)
        let expected = LatencySummary(all)
        #expect(latency.count == echoed && latency.count == all.totalCount)
        #expect(latency.p50 == expected.p50 && latency.p90 == expected.p90 && latency.p99 == expected.p99)
        #expect(latency.p999 == expected.p999 && latency.max == expected.max && latency.min == expected.min)
        #expect(fleet.merged?.echo?.received == echoed)
    }

    @Test func retryingWithTheSameFleetIDStartsNothingTwice() async throws {
        let agents = try threeAgents()
        defer { agents.forEach { $0.stop() } }
        let urls = zip(agents, ["127.0.0.2", "127.0.0.3", "127.0.0.4"]).map { url($0, $1) }.joined(separator: ",")
        let spec = try specFile(#"{"mode":"send","target":"127.0.0.1:\#(freeUDPPort())","duration_s":0.3,"rate_pps":300}"#)
        let out = AgentProcess.temporaryDirectory().appendingPathComponent("fleet.json").path
        var runs: [(output: String, fleet: FleetResult)] = []
        for _ in 0..<2 {
            let run = try volley(["fleet", "run", spec, "--agents", urls, "--fleet-id", "retry-me", "--lead", "0.5", "--out", out])
            #expect(run.status == 0, "\(run.output)")
            runs.append((run.output, try readFleet(out)))
        }
        // The first run started its jobs; the second found them, says so, and shows when they started.
        #expect(runs[0].output.contains("3 agents start at") && !runs[0].output.contains("adopted"))
        #expect(runs[0].fleet.agents.allSatisfy { $0.adopted == nil && $0.startedAt != nil })
        #expect(!runs[1].output.contains("agents start at"), "\(runs[1].output)")
        #expect(runs[1].output.contains("3 agents already had this fleet's job (adopted, nothing new started)"), "\(runs[1].output)")
        for (first, again) in zip(runs[0].fleet.agents, runs[1].fleet.agents) {
            #expect(again.adopted == true && again.jobID == first.jobID)
            let started = try #require(first.startedAt)
            #expect(again.startedAt == started)
            #expect(runs[1].output.contains("adopted, started \(started)"), "\(runs[1].output)")
            #expect(again.sent == first.sent)
        }
        for agent in agents {
            let jobs = try await agent.client.get("/v1/jobs").json["jobs"] as? [[String: Any]]
            #expect(jobs?.count == 1)
            #expect((jobs?.first?["id"] as? String)?.hasPrefix("retry-me-") == true)
        }
    }

    @Test func aDeadAgentMakesThePartialResultNameIt() throws {
        let agents = try threeAgents()
        defer { agents.forEach { $0.stop() } }
        agents[2].stop()
        let dead = url(agents[2], "127.0.0.4")
        let urls = [url(agents[0], "127.0.0.2"), url(agents[1], "127.0.0.3"), dead].joined(separator: ",")
        let spec = try specFile(#"{"mode":"send","target":"127.0.0.1:\#(freeUDPPort())","duration_s":0.3,"rate_pps":300}"#)
        let refused = try volley(["fleet", "run", spec, "--agents", urls])
        #expect(refused.status != 0 && refused.output.contains(dead) && refused.output.contains("--skip-missing"))
        let out = AgentProcess.temporaryDirectory().appendingPathComponent("fleet.json").path
        let partial = try volley(["fleet", "run", spec, "--agents", urls, "--skip-missing", "--lead", "0.5", "--out", out])
        #expect(partial.status == 5, "\(partial.output)")
        let fleet = try readFleet(out)
        #expect(fleet.failedAgents.map(\.url) == [dead])
        #expect(fleet.failedAgents.first?.error?.contains("cannot reach") == true)
        #expect(fleet.merged?.sent.packets ?? 0 > 100)
        let allowed = try volley(["fleet", "run", spec, "--agents", urls, "--skip-missing", "--allow-partial", "--lead", "0.5"])
        #expect(allowed.status == 0 && allowed.output.contains(dead))
    }

    /// A failing threshold on the merged result: FAILED with the check after the table, exit 4; and
    /// `--progress plain` shows each agent's state and counts while it runs (none by default off a terminal).
    @Test func aFailingThresholdExitsFourAndProgressIsShown() throws {
        let agents = try ["127.0.0.2", "127.0.0.3"].map { try AgentProcess(host: $0) }
        defer { agents.forEach { _ = $0.stop() } }
        let urls = zip(agents, ["127.0.0.2", "127.0.0.3"]).map { url($0, $1) }.joined(separator: ",")
        let target = UDPCounter()
        defer { _ = target.drain() }
        let failing = try specFile(#"{"mode":"send","target":"127.0.0.1:\#(target.port)","duration_s":4,"rate_pps":500,"thresholds":{"rate_ratio":{"min":2}}}"#)
        let run = try volley(["fleet", "run", failing, "--agents", urls, "--lead", "0.5", "--progress", "plain"])
        #expect(run.status == 4, "\(run.output)")
        #expect(run.output.contains("verdict: FAILED\n  failed:  rate_ratio "), "\(run.output)")
        #expect(run.output.contains("is below min 2"))
        // Lines every 3 s: at least one while the 4 s jobs run, with a rate from the last second.
        let progress = run.output.split(separator: "\n").filter { $0.hasPrefix("fleet: http://127.0.0.2:") }
        #expect(progress.contains { $0.contains(" running ") && $0.contains(" pps") }, "\(run.output)")
        let passing = try specFile(#"{"mode":"send","target":"127.0.0.1:\#(target.port)","duration_s":0.3,"rate_pps":300,"thresholds":{"errors":{"max":0}}}"#)
        let passed = try volley(["fleet", "run", passing, "--agents", urls, "--lead", "0.5"])
        #expect(passed.status == 0 && passed.output.contains("verdict: PASSED\n") && !passed.output.contains("fleet: http"), "\(passed.output)")
    }

    private func grouped(_ value: UInt64) -> String {
        let digits = String(value)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    @Test func dnsNamesResolveToEveryAddress() throws {
        let urls = try AgentDirectory.resolve("localhost:8080")
        #expect(urls.map(\.absoluteString).contains("http://127.0.0.1:8080"))
        #expect(throws: AgentDirectory.Failure.self) { try AgentDirectory.resolve("no-such-host.invalid:80") }
        #expect(throws: AgentDirectory.Failure.self) { try AgentDirectory.resolve("localhost") }
        let agent = try AgentProcess(host: "127.0.0.1")
        defer { agent.stop() }
        let alsoV6 = urls.contains { $0.absoluteString.hasPrefix("http://[::1]") }
        let v6 = alsoV6 ? try? AgentProcess(host: "::1", port: agent.port) : nil
        defer { v6?.stop() }
        let run = try volley(["fleet", "run", try specFile(#"{"mode":"send","target":"127.0.0.1:\#(freeUDPPort())","duration_s":0.2,"rate_pps":200}"#),
                              "--dns", "localhost:\(agent.port)", "--lead", "0.5", "--skip-missing"])
        #expect(run.output.contains("http://127.0.0.1:\(agent.port)"))
        if v6 != nil { #expect(run.status == 0, "\(run.output)") }
    }

    @Test func badFleetCommandLinesExplainThemselves() throws {
        let spec = try specFile(#"{"mode":"send","target":"127.0.0.1:9","duration_s":1}"#)
        #expect(try volley(["fleet", "run", spec]).output.contains("--agents"))
        let vary = try volley(["fleet", "run", spec, "--agents", "http://127.0.0.1:1", "--vary", "target"])
        #expect(vary.status == 2 && vary.output.contains("KEY=VALUE"))
        let withID = try volley(["fleet", "run", try specFile(#"{"mode":"send","target":"127.0.0.1:9","id":"x"}"#), "--agents", "http://127.0.0.1:1"])
        #expect(withID.status == 2 && withID.output.contains("'id'"))
    }
}

import ArgumentParser
import Dispatch
import Foundation
import Glibc
import VolleyFleet
import VolleyModel

/// `volley fleet run SPEC.json`: one job on many agents, started together, results merged.
struct Fleet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one job on many agents at once.",
        discussion: "Example:\n  volley fleet run examples/send.json --agents http://agent-a:8080,http://agent-b:8080 --split-rate",
        subcommands: [FleetRun.self]
    )
}

struct FleetRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start a job on every agent at the same moment and merge their results exactly.",
        discussion: """
            Every agent gets the same start_at (now + --lead, corrected for its clock offset) and a client
            id made from the fleet id, so running again with the same --fleet-id never starts a job twice:
            the jobs already there are followed and shown as adopted, with their own start time.
            While it runs, stderr shows one line per agent (state, sent, received, last second's rate),
            redrawn in place on a terminal; after the table comes the merged verdict (PASSED/FAILED).
            Counters are summed, latency percentiles come from the merged HDR histogram.
            Examples:
              volley fleet run examples/send.json --agents http://a:8080,http://b:8080 --split-rate --out fleet.json
              volley fleet run examples/sink.json --dns volley-agents.volley.svc.cluster.local:8080
              volley fleet run spec.json --agents-file agents.txt --vary target=[2001:db8::53]:53,[2001:db8::54]:53
            Exit status: 0 when every agent completed (or --allow-partial) and the merged result passed its
            thresholds, 5 when some agents did not complete, 4 when thresholds failed.
            """
    )

    @Argument(help: "The job spec (JSON file, or - for stdin).") var spec: String
    @Option(help: "Agent URLs, comma-separated.") var agents: String?
    @Option(help: "A file of agent URLs, one a line.") var agentsFile: String?
    @Option(help: "NAME:PORT: every A/AAAA record of NAME is an agent (a Kubernetes headless Service).") var dns: String?
    @Flag(help: "Reach --dns agents over HTTPS.") var https = false
    @Option(help: "File holding the agents' API token (default: $VOLLEY_TOKEN).") var tokenFile: String?
    @Option(help: "Seconds between submitting and the common start.") var lead = 2.0
    @Flag(help: "Divide rate_pps (and profile rates) evenly across the agents.") var splitRate = false
    @Option(help: ArgumentHelp("Give each agent its own value for a field: KEY=V1,V2,… (one per agent, repeatable).", valueName: "KEY=LIST"))
    var vary: [String] = []
    @Flag(help: "Leave out agents that fail the preflight instead of refusing to start.") var skipMissing = false
    @Flag(help: "Exit 0 even when some agents failed (their errors are still listed).") var allowPartial = false
    @Option(help: "Fleet id (default: random); reuse it to retry a run without starting jobs twice.") var fleetId: String?
    @Option(help: "Write the merged result JSON here.") var out: String?
    @Option(help: "Live progress on stderr: auto (one line per agent, refreshed in place, when stderr is a terminal; none otherwise), plain (lines every few seconds), none.")
    var progress: FleetProgress.Style = .auto

    func run() async throws {
        var urls: [URL] = []
        do {
            if let agents { urls += try AgentDirectory.parse(list: agents) }
            if let agentsFile { urls += try AgentDirectory.parse(file: agentsFile) }
            if let dns { urls += try AgentDirectory.resolve(dns, scheme: https ? "https" : "http") }
        } catch {
            throw fail(error.description, .invalidInput)
        }
        guard !urls.isEmpty else { throw fail("name the agents with --agents, --agents-file or --dns", .invalidInput) }
        if let fleetId, JobID(fleetId + "-0") == nil { throw fail("--fleet-id '\(fleetId)' must be letters, digits, . _ - (≤ 60)", .invalidInput) }
        var plan: FleetPlan
        do {
            plan = try FleetPlan(specJSON: try readSpec(spec))
            plan.splitRate = splitRate
            for item in vary { plan.vary.append(try FleetPlan.parseVary(item)) }
        } catch let error as FleetPlan.Failure {
            throw fail(error.description, .invalidInput)
        }
        var options = FleetRunner.Options()
        options.lead = lead
        options.skipMissing = skipMissing
        options.fleetID = fleetId
        options.token = try loadToken(file: tokenFile)
        let runner = FleetRunner(plan: plan, agents: urls, options: options)

        let refused = await runner.preflight()
        if !refused.isEmpty && !skipMissing {
            for agent in refused { FileHandle.standardError.write(Data("volley: \(agent.url): \(agent.error ?? "")\n".utf8)) }
            throw fail("\(refused.count) of \(urls.count) agents cannot take part; fix them or pass --skip-missing")
        }
        let signals = Self.cancelOnSignals(runner)
        let startAt = await runner.start()
        let outcomes = runner.snapshot().map(\.outcome)
        FileHandle.standardError.write(Data(FleetSummary.startLine(fleetID: runner.fleetID, startAt: startAt, outcomes).utf8))
        let deadline = startAt.date.addingTimeInterval(plan.spec.totalSeconds + 30)
        let live = FleetProgress(style: progress.resolved(isTerminal: isatty(STDERR_FILENO) == 1), runner: runner)
        let result = await runner.collect(startAt: startAt, deadline: deadline)
        await live.stop()
        signals.forEach { $0.cancel() }

        print(FleetSummary.table(result))
        if let verdict = FleetSummary.verdict(result) { print(verdict) }
        if let out {
            let bytes = try VolleyJSON.encode(result, pretty: true)
            guard FileManager.default.createFile(atPath: out, contents: bytes + Data([0x0a])) else { throw fail("cannot write \(out)") }
        }
        if !result.failedAgents.isEmpty && !allowPartial { throw ExitStatus.partialFleet.exitCode }
        if result.merged?.verdict?.passed == false { throw ExitStatus.thresholdsFailed.exitCode }
    }

    /// Ctrl-C or SIGTERM cancels the fleet's jobs on every agent, then exits 130.
    static func cancelOnSignals(_ runner: FleetRunner) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("volley: cancelling the fleet's jobs…\n".utf8))
                let done = DispatchSemaphore(value: 0)
                Task {
                    await runner.cancelAll()
                    done.signal()
                }
                done.wait()
                Glibc.exit(ExitStatus.interrupted.rawValue)
            }
            source.resume()
            return source
        }
    }
}

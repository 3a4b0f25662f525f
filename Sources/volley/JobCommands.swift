import ArgumentParser
import Foundation
import Glibc
import VolleyFleet
import VolleyModel

/// `volley submit SPEC.json [--wait]`.
struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a job spec to an agent.",
        discussion: """
            Prints the job; with --wait, shows progress on stderr and prints the result: JSON when
            stdout is not a terminal (or with --json), else a summary (then on stderr too when piped
            and stderr is a terminal).
            Examples:
              volley submit examples/sink.json
              VOLLEY_AGENT=https://agent-3:8080 VOLLEY_TOKEN=… volley submit examples/send.json --wait
            \(ExitStatus.table)
            """
    )

    @OptionGroup var client: ClientOptions
    @Argument(help: "The job spec (JSON file, or - for stdin).") var spec: String
    @Flag(help: "Wait for the job to finish and print its result.") var wait = false
    @OptionGroup(title: "Output (with --wait)") var output: OutputOptions

    func run() async throws {
        let agent = try client.client()
        let job = try await calling { try await agent.submit(json: try readSpec(spec)) }
        guard wait else {
            printJSON(try VolleyJSON.encode(job, pretty: true))
            return
        }
        var line = ProgressLine(mode: output.progressMode, spec: job.spec)
        var current = job
        while current.state.isActive {
            line.show(current.progress)
            try await Task.sleep(nanoseconds: 250_000_000)
            current = try await calling { try await agent.job(job.id.rawValue) }
        }
        line.finish()
        let bytes = try await calling { try await agent.resultBytes(job.id.rawValue) }
        let result: JobResult?
        do {
            result = try VolleyJSON.decode(JobResult.self, from: bytes)
        } catch {
            // The JSON still reaches stdout below; say why there is no summary and no verdict.
            FileHandle.standardError.write(Data("volley: the agent's result cannot be read as a Volley result (\(error)); printing it as is\n".utf8))
            result = nil
        }
        let stdoutTaken = output.jsonOnStdout || result == nil
        if let result { output.printSummary(Summary.text(result, interval: output.interval), stdoutTaken: stdoutTaken) }
        if stdoutTaken { printJSON(bytes) }
        let status = result.map { ExitStatus.of($0) } ?? (current.state == .completed ? .passed : .failed)
        if status != .passed { throw status.exitCode }
    }
}

/// `volley status ID`: a few lines on a terminal, the API's JSON when piped (scripts grep it) or with --json.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a job (state, times, progress).",
                                                    discussion: "Examples:\n  volley status j01a2f3c4d5e6-0badcafe\n  volley status j01a2f3c4d5e6-0badcafe --json | jq .state")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The job id.") var id: String
    @Flag(help: "Print the API's JSON, also on a terminal.") var json = false

    func run() async throws {
        let agent = try client.client()
        let bytes = try await calling { try await agent.call("GET", "/v1/jobs/\(id)") }
        guard !json, isatty(STDOUT_FILENO) == 1 else {
            printJSON(bytes)
            return
        }
        do {
            // A finished job carries its result's verdict: no second request for the result.
            print(Self.text(try VolleyJSON.decode(Job.self, from: bytes)), terminator: "")
        } catch {
            // A job this version cannot read (a newer agent's) is shown as the JSON it is, saying why.
            FileHandle.standardError.write(Data("volley: showing the agent's JSON: this version cannot read the job (\(error))\n".utf8))
            printJSON(bytes)
        }
    }

    /// The human view: id and state, what the job does, its progress (with the latest second's RTT
    /// while an echo job runs), and the verdict once finished.
    static func text(_ job: Job) -> String {
        let spec = job.spec
        let p = job.progress
        let place = spec.endpoint.map { (spec.mode.originates ? " to " : " on ") + $0.description } ?? ""
        var lines = ["\(job.id.rawValue)  \(job.state.rawValue)",
                     "  \(spec.mode.rawValue)\(place), " + String(format: "%.1f of %.1f s", p.elapsedSeconds, spec.totalSeconds),
                     "  sent     \(p.packetsSent.grouped) datagrams  \(p.bytesSent.grouped) bytes",
                     "  received \(p.packetsReceived.grouped) datagrams  \(p.bytesReceived.grouped) bytes"]
        if job.state == .running, let rtt = p.rtt {
            lines.append("  RTT      p50 \(rtt.p50.grouped) µs  p99 \(rtt.p99.grouped) µs (second \(rtt.second))")
        }
        if let error = job.error { lines.append("  error    \(error.message)") }
        if job.state.isFinished { lines += Summary.verdict(job.verdict) }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `volley result ID`.
struct Result: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a finished job's stored result.",
                                                    discussion: "Example:\n  volley result j01a2f3c4d5e6-0badcafe > result.json")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The job id.") var id: String

    func run() async throws {
        let agent = try client.client()
        printJSON(try await calling { try await agent.resultBytes(id) })
    }
}

/// `volley cancel ID`.
struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop a running job or withdraw a waiting one.",
                                                    discussion: "Example:\n  volley cancel j01a2f3c4d5e6-0badcafe")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The job id.") var id: String

    func run() async throws {
        let agent = try client.client()
        printJSON(try VolleyJSON.encode(try await calling { try await agent.cancel(id) }, pretty: true))
    }
}

/// `volley jobs [--state S]`.
struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List an agent's jobs, newest first.",
                                                    discussion: "Examples:\n  volley jobs\n  volley jobs --state running --json")
    @OptionGroup var client: ClientOptions
    @Option(help: "Only jobs in this state.") var state: String?
    @Option(help: "At most this many.") var limit = 50
    @Flag(help: "Print the API's JSON instead of a table.") var json = false

    func run() async throws {
        let agent = try client.client()
        let page = try await calling { try await agent.jobs(state: state, limit: limit) }
        if json {
            struct Out: Encodable { var jobs: [Job] }
            printJSON(try VolleyJSON.encode(Out(jobs: page.jobs), pretty: true))
            return
        }
        print("ID".padding(28) + "STATE".padding(12) + "MODE".padding(9) + "ADDRESS".padding(24) + "SENT".padding(14) + "RECEIVED")
        for job in page.jobs {
            print(job.id.rawValue.padding(28) + job.state.rawValue.padding(12) + job.spec.mode.rawValue.padding(9)
                  + (job.spec.endpoint?.description ?? "-").padding(24) + job.progress.packetsSent.grouped.padding(14)
                  + job.progress.packetsReceived.grouped)
        }
    }
}

/// Runs one call to the agent, turning its failure into one clear line and a non-zero exit.
func calling<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as AgentClientError {
        throw fail(error.description, ExitStatus.of(error))
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

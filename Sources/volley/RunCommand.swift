import ArgumentParser
import Foundation
import Glibc
import Synchronization
import VolleyAgent
import VolleyModel

/// `volley run SPEC.json` or `volley run MODE --flags`: one job in this process, no agent.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one job here, without an agent, and print its result.",
        discussion: """
            The quickest way to try Volley. The argument is a mode (send, sink, echo, reflect) with
            flags, or a spec file. --rate is datagrams/s and --bitrate payload bits/s, each with an
            optional k, M or G suffix (powers of 1000); --time takes 5s, 500ms or 2m.
            Examples:
              volley run sink --listen 127.0.0.1:9000 --time 8s &
              volley run send --target 127.0.0.1:9000 --rate 100k --size 64 --time 5s
              volley run send --target 127.0.0.1:9000 --bitrate 50M --size 1200 --time 5s
              volley run examples/echo-latency.json --out echo-result.json
            On a terminal a summary is printed (and progress on stderr); piped, or with --json, the
            result JSON goes to stdout and the summary to stderr when that is a terminal.
            Ctrl-C stops the job; its partial result is printed (state 'cancelled').
            \(ExitStatus.table)
            """
    )

    @Argument(help: ArgumentHelp("A mode (send, sink, echo, reflect) with flags, or a spec file (- for stdin).",
                                 valueName: "mode|spec"))
    var spec: String

    @OptionGroup(title: "Quick flags (with a mode)") var flags: QuickFlags
    @OptionGroup(title: "Output") var output: OutputOptions

    @Option(help: "Write the result JSON here instead of stdout.")
    var out: String?

    @Option(help: ArgumentHelp("Also allow this address block besides loopback (repeatable).", valueName: "CIDR"))
    var allow: [String] = []

    func run() throws {
        let parsed: JobSpec
        if let mode = JobSpec.Mode(rawValue: spec) {
            parsed = try flags.spec(mode: mode)
        } else {
            if flags.anyGiven { throw ValidationError("the quick flags go with a mode (volley run send --target …), not with a spec file") }
            do {
                parsed = try JobSpec.decode(json: try readSpec(spec))
            } catch let error as SpecError {
                throw fail("invalid spec\(error.field.map { " (field '\($0)')" } ?? ""): \(error.message)", .invalidInput)
            }
        }
        let allowlist = try Self.allowlist(allow)
        let (result, interrupted) = try Self.runLocally([parsed], allowlist: allowlist, progress: output.progressMode)
        guard let result = result.first else { throw fail("the job produced no result") }
        let stdoutTaken = out == nil && output.jsonOnStdout
        output.printSummary(Summary.text(result, interval: output.interval), stdoutTaken: stdoutTaken)
        try Self.write(try VolleyJSON.encode(result, pretty: true), out: out, stdout: stdoutTaken)
        let status = ExitStatus.of(result, interrupted: interrupted)
        if status != .passed { throw status.exitCode }
    }

    static func allowlist(_ blocks: [String]) throws -> [CIDR] {
        var allowlist = CIDR.loopback
        for block in blocks {
            guard let cidr = CIDR(block) else { throw fail("--allow '\(block)' is not an address block", .invalidInput) }
            allowlist.append(cidr)
        }
        return allowlist
    }

    /// Writes the JSON to `out`, or to stdout when it goes there.
    static func write(_ bytes: Data, out: String?, stdout: Bool) throws {
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: bytes + Data([0x0a])) else {
                throw fail("cannot write \(out)")
            }
        } else if stdout {
            printJSON(bytes)
        }
    }

    /// Runs `specs` in this process, the first one started first and stopped last (a receiver must
    /// outlive its sender: `volley pair`), with progress shown for the last one. Ctrl-C stops them all.
    /// `settle(first, last, seconds)`: once the others ended, asked every 50 ms whether the first may
    /// stop now (given both progresses and the seconds since the last ended); nil lets it run to its end.
    static func runLocally(_ specs: [JobSpec], allowlist: [CIDR], progress: ProgressMode,
                           settle: ((JobProgress, JobProgress, Double) -> Bool)? = nil)
        throws -> (results: [JobResult], interrupted: Bool) {
        var jobs: [LocalRun] = []
        for spec in specs {
            do {
                jobs.append(try LocalRun(spec: spec, allowlist: allowlist))
            } catch {
                throw fail("\(error.message)\(error.field.map { " (field '\($0)')" } ?? "")", error.code == "invalid_spec" ? .invalidInput : .failed)
            }
        }
        let interrupted = Atomic<Bool>(false)
        let all = jobs
        let endWatch = StopSignals.onInterrupt {
            interrupted.store(true, ordering: .relaxed)
            for job in all { job.stop() }
        }
        defer { endWatch() }

        // LocalRun.wait consumes its one "done" signal: remember which jobs have ended.
        var ended = [Bool](repeating: false, count: jobs.count)
        func hasEnded(_ i: Int, within seconds: Double) -> Bool {
            if !ended[i] { ended[i] = jobs[i].wait(seconds: seconds) }
            return ended[i]
        }
        let last = jobs.count - 1
        var line = ProgressLine(mode: progress, spec: jobs[last].spec)
        for job in jobs { job.start() }
        while !hasEnded(last, within: 0.25) { line.show(jobs[last].progress()) }
        line.finish()
        for i in jobs.indices.dropFirst() { while !hasEnded(i, within: 0.25) {} }
        if jobs.count > 1, let settle {
            let endedAt = Date()
            let final = jobs[last].progress()
            while !hasEnded(0, within: 0.05) {
                if settle(jobs[0].progress(), final, -endedAt.timeIntervalSinceNow) { jobs[0].stop() }
            }
        }
        for i in jobs.indices { while !hasEnded(i, within: 0.25) {} }
        let results = jobs.compactMap { $0.result(hostname: Agent.hostname()) }
        guard results.count == jobs.count else { throw fail("a job produced no result") }
        return (results, interrupted.load(ordering: .relaxed))
    }
}

import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Synchronization
import VolleyAgent
import VolleyModel

/// `volley run SPEC.json`: one job in this process, no agent; the result JSON on stdout.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one job here, without an agent, and print its result.",
        discussion: """
            The quickest way to try Volley. Exit status 0 when the job completed.
            Examples:
              volley run examples/sink.json &
              volley run examples/send.json --out send-result.json
              volley run examples/echo-latency.json --progress plain
            Ctrl-C stops the job; its partial result is printed (state 'cancelled').
            """
    )

    @Argument(help: "The job spec (JSON file, or - for stdin).")
    var spec: String

    @Option(help: "Write the result here instead of stdout.")
    var out: String?

    @Option(help: "Progress: auto (on a terminal only), tty, plain (a line a second), none.")
    var progress: ProgressMode = .auto

    @Option(help: ArgumentHelp("Also allow this address block besides loopback (repeatable).", valueName: "CIDR"))
    var allow: [String] = []

    func run() throws {
        let parsed: JobSpec
        do {
            parsed = try JobSpec.decode(json: try readSpec(spec))
        } catch let error as SpecError {
            throw fail("invalid spec\(error.field.map { " (field '\($0)')" } ?? ""): \(error.message)", .invalidInput)
        }
        var allowlist = CIDR.loopback
        for block in allow {
            guard let cidr = CIDR(block) else { throw fail("--allow '\(block)' is not an address block", .invalidInput) }
            allowlist.append(cidr)
        }
        let job: LocalRun
        do {
            job = try LocalRun(spec: parsed, allowlist: allowlist)
        } catch {
            throw fail("\(error.message)\(error.field.map { " (field '\($0)')" } ?? "")")
        }
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let interrupted = Atomic<Bool>(false)
        interrupt.setEventHandler {
            interrupted.store(true, ordering: .relaxed)
            job.stop()
        }
        interrupt.resume()

        var line = ProgressLine(mode: progress, spec: parsed)
        job.start()
        while !job.wait(seconds: 0.25) { line.show(job.progress()) }
        guard let result = job.result(hostname: Agent.hostname()) else { throw fail("the job produced no result") }
        line.finish(result)
        let bytes = try VolleyJSON.encode(result, pretty: true)
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: bytes + Data([0x0a])) else {
                throw fail("cannot write \(out)")
            }
        } else {
            printJSON(bytes)
        }
        let status = ExitStatus.of(result, interrupted: interrupted.load(ordering: .relaxed))
        if status != .passed { throw status.exitCode }
    }
}

import ArgumentParser
import Foundation
import VolleyAgent

/// Token and TLS flags of `volley serve`.
struct SecurityOptions: ParsableArguments {
    @Option(help: "File holding the API token (else VOLLEY_TOKEN); every route but /v1/health then needs it.")
    var tokenFile: String?

    @Option(help: ArgumentHelp("A host name the API answers for besides its address and localhost (repeatable).",
                               valueName: "NAME"))
    var serverName: [String] = []

    @Flag(help: "Allow a non-loopback --listen without a token. Anyone who can reach the port can then run traffic.")
    var insecureNoAuth = false

    @Option(help: "PEM certificate (chain) for HTTPS; needs --tls-key.")
    var tlsCert: String?

    @Option(help: "PEM private key for HTTPS; needs --tls-cert.")
    var tlsKey: String?

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        _ = try token()
    }

    /// The token from --token-file or VOLLEY_TOKEN. A named file that cannot be read, is empty, or holds
    /// characters a client cannot send is an error at start-up, never a silent fallback.
    func token() throws -> String? { try loadToken(file: tokenFile) }

    func tls() throws -> (certificate: String, key: String)? {
        guard let tlsCert, let tlsKey else { return nil }
        do {
            return (try String(contentsOfFile: tlsCert, encoding: .utf8), try String(contentsOfFile: tlsKey, encoding: .utf8))
        } catch {
            throw ValidationError("cannot read --tls-cert/--tls-key: \(error.localizedDescription)")
        }
    }
}

/// Limits and retention flags of `volley serve`.
struct LimitOptions: ParsableArguments {
    @Option(help: "Jobs running at once; more wait in a queue.") var maxJobs = 4
    @Option(help: "Jobs waiting (queued or scheduled); more are refused with 429.") var maxQueued = 64
    @Option(help: "Refuse jobs asking for more datagrams per second (and unlimited-rate jobs).") var maxRatePps: Int?
    @Option(help: "Refuse jobs longer than this many seconds.") var maxDurationS: Double?
    @Option(help: "Refuse jobs with more threads.") var maxThreads: Int?
    @Option(help: "Refuse jobs with larger payloads.") var maxPayloadBytes: Int?
    @Option(help: "Keep at most this many finished jobs (the oldest are deleted).")
    var keepResults: Int = AgentLimits.defaultKeepResults
    @Option(help: "Delete finished jobs older than this many days.") var keepDays: Double?
    @Option(help: "Most memory one job's buffers and windows may take (bytes, or with KiB/MiB/GiB).")
    var maxJobMemory: ByteSize = ByteSize(bytes: AgentLimits().maxJobMemoryBytes)
    @Option(help: "Most memory all running, queued and scheduled jobs may take together.")
    var maxMemory: ByteSize = ByteSize(bytes: AgentLimits().maxMemoryBytes)
    @Option(help: "Most sockets all running, queued and scheduled jobs may hold (default: the descriptor limit less 1200).")
    var maxSockets: Int?
    @Option(help: "How far ahead start_at may be, in seconds (default 7 days).")
    var maxStartAheadS: Double = AgentLimits().maxStartAheadSeconds
    @Flag(help: "Refuse jobs with cpu_latency_us (a host-wide PM QoS request that keeps idle CPUs polling), even where the agent could hold one.")
    var denyCpuLatency = false

    func validate() throws {
        guard maxJobs >= 1, maxQueued >= 0 else { throw ValidationError("--max-jobs must be ≥ 1 and --max-queued ≥ 0") }
        for (name, value) in [("--max-rate-pps", maxRatePps), ("--max-threads", maxThreads),
                              ("--max-payload-bytes", maxPayloadBytes)] {
            if let value, value < 0 { throw ValidationError("\(name) must not be negative") }
        }
        if maxJobMemory.bytes > maxMemory.bytes {
            throw ValidationError("--max-job-memory (\(maxJobMemory)) cannot exceed --max-memory (\(maxMemory))")
        }
        guard keepResults >= 1 else { throw ValidationError("--keep-results must be at least 1") }
        if let maxSockets, maxSockets < 1 { throw ValidationError("--max-sockets must be at least 1") }
        guard maxStartAheadS.isFinite, maxStartAheadS >= 0 else { throw ValidationError("--max-start-ahead-s must be 0 or more seconds") }
    }

    var agentLimits: AgentLimits {
        var limits = AgentLimits()
        limits.maxJobs = maxJobs
        limits.maxQueued = maxQueued
        limits.maxRatePPS = maxRatePps
        limits.maxDurationSeconds = maxDurationS
        limits.maxThreads = maxThreads
        limits.maxPayloadBytes = maxPayloadBytes
        limits.keepResults = keepResults
        limits.keepDays = keepDays
        limits.maxJobMemoryBytes = maxJobMemory.bytes
        limits.maxMemoryBytes = maxMemory.bytes
        limits.maxSockets = maxSockets
        limits.maxStartAheadSeconds = maxStartAheadS
        limits.allowCPULatency = !denyCpuLatency
        return limits
    }
}

/// A size on the command line: bytes, or a number with KiB, MiB or GiB (K, M, G for short).
struct ByteSize: ExpressibleByArgument, CustomStringConvertible {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let units: [(String, Int)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("G", 1 << 30), ("M", 1 << 20),
                                      ("K", 1 << 10), ("B", 1)]
        let text = argument.trimmingCharacters(in: .whitespaces)
        let (number, scale) = units.first { text.hasSuffix($0.0) }.map { (String(text.dropLast($0.0.count)), $0.1) } ?? (text, 1)
        guard let value = Int(number.trimmingCharacters(in: .whitespaces)), value > 0,
              value <= Int.max / scale else { return nil }
        bytes = value * scale
    }

    var description: String {
        bytes % (1 << 30) == 0 ? "\(bytes >> 30)GiB" : bytes % (1 << 20) == 0 ? "\(bytes >> 20)MiB" : "\(bytes)"
    }
    var defaultValueDescription: String { description }
}

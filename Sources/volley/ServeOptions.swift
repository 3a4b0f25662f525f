import ArgumentParser
import Foundation
import VolleyAgent

/// Token and TLS flags of `volley serve`.
struct SecurityOptions: ParsableArguments {
    @Option(help: "File holding the API token (else VOLLEY_TOKEN); every route but /v1/health then needs it.")
    var tokenFile: String?

    @Flag(help: "Allow a non-loopback --listen without a token. Anyone who can reach the port can then run traffic.")
    var insecureNoAuth = false

    @Option(help: "PEM certificate (chain) for HTTPS; needs --tls-key.")
    var tlsCert: String?

    @Option(help: "PEM private key for HTTPS; needs --tls-cert.")
    var tlsKey: String?

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if let tokenFile, token() == nil {
            throw ValidationError("--token-file \(tokenFile) cannot be read or is empty")
        }
    }

    /// The token from --token-file (first line, trimmed) or VOLLEY_TOKEN.
    func token() -> String? {
        let text = tokenFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
            ?? ProcessInfo.processInfo.environment["VOLLEY_TOKEN"]
        let token = text?.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) }
        return token?.isEmpty == false ? token : nil
    }

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
    @Option(help: "Keep at most this many finished jobs (the oldest are deleted).") var keepResults: Int?
    @Option(help: "Delete finished jobs older than this many days.") var keepDays: Double?

    func validate() throws {
        guard maxJobs >= 1, maxQueued >= 0 else { throw ValidationError("--max-jobs must be ≥ 1 and --max-queued ≥ 0") }
        for (name, value) in [("--max-rate-pps", maxRatePps), ("--max-threads", maxThreads),
                              ("--max-payload-bytes", maxPayloadBytes), ("--keep-results", keepResults)] {
            if let value, value < 0 { throw ValidationError("\(name) must not be negative") }
        }
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
        return limits
    }
}

import Foundation
import VolleyModel

/// How an agent is set up: where it listens, where it keeps its data, who may use it, and what it may do.
public struct AgentConfig: Sendable {
    /// Address to listen on: an IP literal (`127.0.0.1`, `::1`).
    public var host: String
    /// TCP port; 0 picks a free one.
    public var port: UInt16
    /// The data folder (`jobs/`, `results/`, `quarantine/`); created if missing.
    public var dataDirectory: URL
    /// Addresses jobs may target or listen on; loopback only by default.
    public var allowlist: [CIDR]
    /// Largest request body accepted; larger ones are answered 413.
    public var maxBodyBytes = 64 * 1024
    /// When set, every route but `/v1/health` needs `Authorization: Bearer <token>`.
    public var token: String?
    /// Host names the API answers for besides IP literals and `localhost` (`--server-name`).
    public var serverNames: [String] = []
    /// PEM certificate and key: serve HTTPS.
    public var tls: (certificate: String, key: String)?
    public var limits = AgentLimits()

    public init(host: String = "127.0.0.1", port: UInt16 = 8080, dataDirectory: URL,
                allowlist: [CIDR] = CIDR.loopback) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.allowlist = allowlist
    }
}

/// What an operator allows jobs on this agent to do, and how much history it keeps.
public struct AgentLimits: Sendable {
    /// Jobs running at once; more wait in the queue.
    public var maxJobs = 4
    /// Jobs waiting (queued or scheduled); more are refused with 429.
    public var maxQueued = 64
    public var maxRatePPS: Int?
    public var maxDurationSeconds: Double?
    public var maxThreads: Int?
    public var maxPayloadBytes: Int?
    /// Keep at most this many finished jobs (oldest go first).
    public var keepResults: Int? = AgentLimits.defaultKeepResults
    /// Finished jobs kept by default: the data folder and the job table cannot grow for ever.
    public static let defaultKeepResults = 10_000
    /// Keep finished jobs at most this many days.
    public var keepDays: Double?
    /// Bytes of buffers and windows one job may hold.
    public var maxJobMemoryBytes = ResourceBudget.defaultJobMemoryBytes
    /// Bytes all admitted jobs (running, queued, scheduled) may hold together.
    public var maxMemoryBytes = ResourceBudget.defaultMemoryBytes
    /// Sockets all admitted jobs may hold together; nil: what the descriptor limit affords.
    public var maxSockets: Int?
    /// How far ahead `start_at` may be, in seconds (7 days by default).
    public var maxStartAheadSeconds: Double = 7 * 86_400
    /// Whether jobs may hold a host-wide PM QoS CPU latency request (`cpu_latency_us`) where the
    /// agent can open the device; `--deny-cpu-latency` refuses them on a shared host.
    public var allowCPULatency = true

    public init() {}

    var budget: ResourceBudget {
        ResourceBudget(jobMemoryBytes: maxJobMemoryBytes, memoryBytes: maxMemoryBytes,
                       sockets: maxSockets ?? ResourceBudget.defaultSockets())
    }

    /// 403 `limit_exceeded` naming the limit, for a spec that asks for more than this agent allows.
    func check(_ spec: JobSpec) throws(APIError) {
        func refuse(_ limit: String, _ field: String, _ value: String, _ allowed: String) -> APIError {
            APIError(.limitExceeded, "'\(field)' is \(value) but this agent allows at most \(allowed) (--\(limit))", field: field)
        }
        if let max = maxRatePPS, spec.mode.originates {
            let peak = spec.profile?.map { $0.ratePPS ?? $0.rampToPPS ?? 0 }.max() ?? spec.ratePPS
            if peak > max || (peak == 0 && spec.profile == nil) {
                throw refuse("max-rate-pps", spec.profile == nil ? "rate_pps" : "profile", peak == 0 ? "\"max\" (unlimited)" : "\(peak)", "\(max)")
            }
        }
        // An echo job runs for its duration plus the wait for late replies: the limit is on the whole.
        if let max = maxDurationSeconds, spec.totalSeconds > max {
            let field = spec.profile == nil ? "duration_s" : "profile"
            let value = spec.mode == .echo ? "\(spec.durationSeconds) (+ echo_timeout_ms \(spec.echoTimeoutMilliseconds) = \(spec.totalSeconds) s)" : "\(spec.durationSeconds)"
            throw refuse("max-duration-s", field, value, "\(max)")
        }
        if let max = maxThreads, spec.threads > max {
            throw refuse("max-threads", "threads", "\(spec.threads)", "\(max)")
        }
        if !allowCPULatency, spec.cpuLatencyMicroseconds != nil {
            throw APIError(.limitExceeded, "'cpu_latency_us' holds a host-wide CPU latency request, which this agent does not allow (--deny-cpu-latency)",
                           field: "cpu_latency_us")
        }
        if let max = maxPayloadBytes, spec.mode.originates, spec.largestPayload > max {
            let field = spec.payloadHex != nil ? "payload_hex" : (spec.sizes != nil ? "sizes" : "payload_bytes")
            throw refuse("max-payload-bytes", field, "\(spec.largestPayload)", "\(max)")
        }
    }
}

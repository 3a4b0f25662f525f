import Glibc
import VolleyEngine
import VolleyModel

/// The agent's memory and socket budget. Every admitted job (running, queued or scheduled) holds its
/// footprint against it from admission until it ends, so a job that was accepted can always start,
/// and no spec or pile of scheduled jobs can take the process past what the operator allowed.
struct ResourceBudget: Sendable {
    /// Bytes one job may hold (`--max-job-memory`).
    var jobMemoryBytes: Int
    /// Bytes all admitted jobs may hold together (`--max-memory`).
    var memoryBytes: Int
    /// Sockets all admitted jobs may hold together (`--max-sockets`).
    var sockets: Int

    static let defaultJobMemoryBytes = 256 << 20
    static let defaultMemoryBytes = 1 << 30
    /// File descriptors kept back for the API's connections (the HTTP server's limit is 1024), the data
    /// folder and the process itself.
    static let reservedDescriptors = 1200

    /// The socket budget this process can afford: its descriptor limit less the reserve (raising the
    /// soft limit to the hard one first, as a daemon should), at most 65,536.
    static func defaultSockets() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 64 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let soft = Int(clamping: limit.rlim_cur)  // RLIM_INFINITY is UInt64.max: clamped, then capped below
        return max(64, min(65_536, soft - reservedDescriptors))
    }

    /// 403 when the job alone is over `--max-job-memory` (it could never run here).
    func checkJob(_ spec: JobSpec, _ footprint: JobFootprint) throws(APIError) {
        guard footprint.memoryBytes > jobMemoryBytes else { return }
        let field = JobFootprint.largestField(of: spec)
        throw APIError(.limitExceeded, "the job would hold \(Self.mib(footprint.memoryBytes)) of buffers and windows; this agent allows at most \(Self.mib(jobMemoryBytes)) per job (--max-job-memory): lower \(Self.levers(spec))",
                       field: field)
    }

    /// 429 when the job does not fit beside the jobs already admitted; it may fit once they end.
    func checkAgent(_ spec: JobSpec, _ footprint: JobFootprint, inUse: JobFootprint, jobs: Int) throws(APIError) {
        if inUse.memoryBytes + footprint.memoryBytes > memoryBytes {
            let field = JobFootprint.largestField(of: spec)
            throw APIError(.budgetExhausted, "the job needs \(Self.mib(footprint.memoryBytes)); \(Self.count(jobs)) hold \(Self.mib(inUse.memoryBytes)) of this agent's \(Self.mib(memoryBytes)) (--max-memory): try again when they end, or lower \(Self.levers(spec))",
                           field: field)
        }
        if inUse.sockets + footprint.sockets > sockets {
            let field = spec.mode.originates ? "flows" : "threads"
            throw APIError(.budgetExhausted, "the job needs \(footprint.sockets) sockets; \(Self.count(jobs)) hold \(inUse.sockets) of this agent's \(sockets) (--max-sockets): try again when they end, or lower \(spec.mode.originates ? "'threads' or 'flows'" : "'threads'")",
                           field: field)
        }
    }

    /// The spec fields that size a job's buffers, as a refusal names them.
    static func levers(_ spec: JobSpec) -> String {
        spec.mode.originates ? "'threads', 'batch' or '\(JobFootprint.largestField(of: spec))'" : "'threads' or 'batch'"
    }

    static func count(_ jobs: Int) -> String { jobs == 1 ? "1 active job" : "\(jobs) active jobs" }

    static func mib(_ bytes: Int) -> String {
        let value = Double(bytes) / 1_048_576
        return value < 10 ? "\(Double(Int(value * 10)) / 10) MiB" : "\(Int(value.rounded())) MiB"
    }
}

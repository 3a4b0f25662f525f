/// Volley's release, reported by `GET /v1/agent`, `volley version` and every result.
public enum Volley {
    public static let version = "0.1.0"
}

/// `GET /v1/agent`: who this agent is and what its kernel can do.
public struct AgentInfo<Capabilities: Codable & Sendable>: Codable, Sendable {
    public var name = "volley"
    public var version = Volley.version
    public var hostname: String
    public var time: Timestamp
    public var capabilities: Capabilities
    public var store: StoreInfo
    /// What admitted jobs may hold, and what they hold now.
    public var budget: BudgetInfo?

    public init(hostname: String, time: Timestamp, capabilities: Capabilities, store: StoreInfo, budget: BudgetInfo? = nil) {
        self.hostname = hostname
        self.time = time
        self.capabilities = capabilities
        self.store = store
        self.budget = budget
    }
}

/// The agent's resource budget (`"budget"` in `GET /v1/agent`): every active job (running, queued or
/// scheduled) holds its computed footprint from admission until it ends.
public struct BudgetInfo: Codable, Sendable, Equatable {
    /// Most memory one job may hold (`--max-job-memory`).
    public var jobMemoryBytes: Int
    /// Most memory all active jobs may hold together (`--max-memory`), and what they hold now.
    public var memoryBytes: Int
    public var memoryInUseBytes: Int
    /// Most sockets all active jobs may hold together (`--max-sockets`), and what they hold now.
    public var sockets: Int
    public var socketsInUse: Int
    public var activeJobs: Int
    /// How far ahead `start_at` may be (`--max-start-ahead-s`).
    public var maxStartAheadSeconds: Double

    public init(jobMemoryBytes: Int, memoryBytes: Int, memoryInUseBytes: Int, sockets: Int, socketsInUse: Int,
                activeJobs: Int, maxStartAheadSeconds: Double) {
        self.jobMemoryBytes = jobMemoryBytes
        self.memoryBytes = memoryBytes
        self.memoryInUseBytes = memoryInUseBytes
        self.sockets = sockets
        self.socketsInUse = socketsInUse
        self.activeJobs = activeJobs
        self.maxStartAheadSeconds = maxStartAheadSeconds
    }

    enum CodingKeys: String, CodingKey {
        case jobMemoryBytes = "job_memory_bytes"
        case memoryBytes = "memory_bytes"
        case memoryInUseBytes = "memory_in_use_bytes"
        case sockets
        case socketsInUse = "sockets_in_use"
        case activeJobs = "active_jobs"
        case maxStartAheadSeconds = "max_start_ahead_s"
    }
}

/// The data folder's health: files found unreadable at start-up and moved to `quarantine/`.
public struct StoreInfo: Codable, Sendable {
    public var quarantined: [String]
    public init(quarantined: [String]) { self.quarantined = quarantined }
}

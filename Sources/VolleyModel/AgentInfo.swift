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

/// The data folder's health: files found unreadable at start-up and moved to `quarantine/`, and
/// the writer's backlog and failures (a full disk shows here before anywhere else).
public struct StoreInfo: Codable, Sendable {
    public var quarantined: [String]
    /// Records, results and deletions not yet in the data folder (written in the background).
    public var pendingWrites: Int?
    /// Writes that failed since start-up (each is tried again until it succeeds).
    public var failedWrites: UInt64?
    /// The latest failure, "<job id>: <reason>".
    public var lastWriteError: String?

    public init(quarantined: [String], pendingWrites: Int? = nil, failedWrites: UInt64? = nil, lastWriteError: String? = nil) {
        self.quarantined = quarantined
        self.pendingWrites = pendingWrites
        self.failedWrites = failedWrites
        self.lastWriteError = lastWriteError
    }

    enum CodingKeys: String, CodingKey {
        case quarantined
        case pendingWrites = "pending_writes"
        case failedWrites = "failed_writes"
        case lastWriteError = "last_write_error"
    }
}

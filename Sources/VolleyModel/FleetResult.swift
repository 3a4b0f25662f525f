import VolleyModel

/// What one agent did in a fleet run.
public struct FleetAgentOutcome: Codable, Equatable, Sendable {
    public var url: String
    public var jobID: String?
    public var state: String?
    /// How late this agent's traffic started after the common `start_at` (from its result), in ms.
    public var startDelayMs: Double?
    /// This agent's clock minus ours, estimated before the run (ms).
    public var clockOffsetMs: Double?
    /// Why this agent is missing from the merged numbers.
    public var error: String?
    /// The agent's own per-second counts (for per-agent lines in reports).
    public var timeline: [TimelineEntry]?
    /// Datagrams this agent sent, and received (for echo: replies), from its result.
    public var sent: UInt64?
    public var received: UInt64?
    /// True when the job was already on the agent from an earlier run with the same fleet id, so
    /// this run followed it instead of starting one; absent in files written before this existed.
    public var adopted: Bool?
    /// When the agent started the job (its clock): for an adopted job, the earlier run's start.
    public var startedAt: Timestamp?

    public init(url: String) { self.url = url }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        jobID = try c.decodeIfPresent(String.self, forKey: .jobID)
        state = try c.decodeIfPresent(String.self, forKey: .state)
        startDelayMs = try c.decodeIfPresent(Double.self, forKey: .startDelayMs)
        clockOffsetMs = try c.decodeIfPresent(Double.self, forKey: .clockOffsetMs)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        timeline = try c.decodeIfPresent([TimelineEntry].self, forKey: .timeline)
        sent = try c.decodeIfPresent(UInt64.self, forKey: .sent)
        received = try c.decodeIfPresent(UInt64.self, forKey: .received)
        adopted = try c.decodeIfPresent(Bool.self, forKey: .adopted)
        startedAt = try c.decodeIfPresent(Timestamp.self, forKey: .startedAt)
    }

    enum CodingKeys: String, CodingKey {
        case url, state, error, timeline, sent, received, adopted
        case startedAt = "started_at"
        case jobID = "job_id"
        case startDelayMs = "start_delay_ms"
        case clockOffsetMs = "clock_offset_ms"
    }
}

/// A fleet run's outcome (`volley fleet run --out FILE`): every agent, how far apart they started,
/// and one merged result of the same shape as a job result.
public struct FleetResult: Codable, Sendable {
    public var fleetID: String
    public var spec: JobSpec
    public var startAt: Timestamp
    public var agents: [FleetAgentOutcome]
    /// Spread of the agents' actual start times (corrected for their clock offsets), ms.
    public var startSkewMs: Double?
    public var merged: JobResult?

    enum CodingKeys: String, CodingKey {
        case spec, agents, merged
        case fleetID = "fleet_id"
        case startAt = "start_at"
        case startSkewMs = "start_skew_ms"
    }

    public init(fleetID: String, spec: JobSpec, startAt: Timestamp, agents: [FleetAgentOutcome]) {
        self.fleetID = fleetID
        self.spec = spec
        self.startAt = startAt
        self.agents = agents
    }

    public var failedAgents: [FleetAgentOutcome] { agents.filter { $0.error != nil || $0.state != "completed" } }
}

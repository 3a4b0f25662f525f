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

    public init(url: String) { self.url = url }

    enum CodingKeys: String, CodingKey {
        case url, state, error
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

    public var failedAgents: [FleetAgentOutcome] { agents.filter { $0.error != nil || $0.state != "completed" } }
}

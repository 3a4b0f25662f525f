/// A job as the API shows it: its spec, state, times and live progress.
public struct Job: Codable, Equatable, Sendable {
    public var id: JobID
    public var state: JobState
    public var spec: JobSpec
    public var createdAt: Timestamp
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    public var progress: JobProgress
    /// Why the job failed, when it did.
    public var error: JobError?
    /// Every state the job entered, with its time.
    public var history: [JobTransition]
    /// How late the job started after its `start_at` (or after it was submitted), in ms.
    public var startDelayMs: Double?
    /// The finished job's verdict, copied from its result (absent while it runs, and for jobs that never ran).
    public var verdict: Verdict?

    public init(id: JobID, state: JobState, spec: JobSpec, createdAt: Timestamp, startedAt: Timestamp? = nil,
                finishedAt: Timestamp? = nil, progress: JobProgress = JobProgress(), error: JobError? = nil,
                history: [JobTransition]? = nil, startDelayMs: Double? = nil) {
        self.id = id
        self.state = state
        self.spec = spec
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.progress = progress
        self.error = error
        self.history = history ?? [JobTransition(state: state, at: createdAt)]
        self.startDelayMs = startDelayMs
    }

    /// Moves to `next` if that makes sense, recording when. Returns false (and changes nothing) if not.
    @discardableResult
    public mutating func move(to next: JobState, at time: Timestamp = Timestamp()) -> Bool {
        guard state.canMove(to: next) else { return false }
        state = next
        history.append(JobTransition(state: next, at: time))
        if next == .running { startedAt = time }
        if next.isFinished { finishedAt = time }
        return true
    }

    enum CodingKeys: String, CodingKey {
        case id, state, spec, progress, error, history, verdict
        case createdAt = "created_at"
        case startDelayMs = "start_delay_ms"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    /// Always writes `started_at`/`finished_at` (as null until known) so clients see a fixed shape.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(state, forKey: .state)
        try c.encode(spec, forKey: .spec)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(progress, forKey: .progress)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encode(history, forKey: .history)
        try c.encodeIfPresent(startDelayMs, forKey: .startDelayMs)
        try c.encodeIfPresent(verdict, forKey: .verdict)
    }

    /// Reads records of every version: `history` defaults to the current state when absent.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(JobID.self, forKey: .id)
        state = try c.decode(JobState.self, forKey: .state)
        spec = try c.decode(JobSpec.self, forKey: .spec)
        createdAt = try c.decode(Timestamp.self, forKey: .createdAt)
        startedAt = try c.decodeIfPresent(Timestamp.self, forKey: .startedAt)
        finishedAt = try c.decodeIfPresent(Timestamp.self, forKey: .finishedAt)
        progress = try c.decodeIfPresent(JobProgress.self, forKey: .progress) ?? JobProgress()
        error = try c.decodeIfPresent(JobError.self, forKey: .error)
        history = try c.decodeIfPresent([JobTransition].self, forKey: .history) ?? [JobTransition(state: state, at: createdAt)]
        startDelayMs = try c.decodeIfPresent(Double.self, forKey: .startDelayMs)
        verdict = try c.decodeIfPresent(Verdict.self, forKey: .verdict)
    }
}

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

    public init(id: JobID, state: JobState, spec: JobSpec, createdAt: Timestamp, startedAt: Timestamp? = nil,
                finishedAt: Timestamp? = nil, progress: JobProgress = JobProgress(), error: JobError? = nil) {
        self.id = id
        self.state = state
        self.spec = spec
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.progress = progress
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case id, state, spec, progress, error
        case createdAt = "created_at"
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
    }
}

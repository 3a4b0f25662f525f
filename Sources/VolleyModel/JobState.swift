/// Where a job is in its life. The first three are active; the rest are final.
///
///     queued ──▶ running ──▶ completed | failed | cancelled
///     scheduled ─┘   (queued or scheduled may also end cancelled; any active job whose agent
///                     died is found `interrupted` at the next start)
public enum JobState: String, Codable, Sendable, CaseIterable {
    /// Waiting for a free slot (`--max-jobs`).
    case queued
    /// Waiting for its `start_at`.
    case scheduled
    case running
    case completed
    /// Could not run or could not store its result; `error` says why.
    case failed
    case cancelled
    /// Was active when the agent stopped without finishing it (a crash or kill -9).
    case interrupted

    public var isFinished: Bool {
        switch self {
        case .queued, .scheduled, .running: false
        case .completed, .failed, .cancelled, .interrupted: true
        }
    }

    public var isActive: Bool { !isFinished }

    /// Whether a job may move from this state to `next`.
    public func canMove(to next: JobState) -> Bool {
        switch (self, next) {
        case (.scheduled, .queued), (.scheduled, .running), (.queued, .running): true
        case (.queued, .cancelled), (.scheduled, .cancelled), (.queued, .interrupted), (.scheduled, .interrupted): true
        case (.queued, .failed), (.scheduled, .failed): true
        case (.running, .completed), (.running, .failed), (.running, .cancelled), (.running, .interrupted): true
        default: false
        }
    }
}

/// One step of a job's life: the state it entered and when.
public struct JobTransition: Codable, Equatable, Sendable {
    public var state: JobState
    public var at: Timestamp

    public init(state: JobState, at: Timestamp) {
        self.state = state
        self.at = at
    }
}

/// A machine-readable reason a job failed, with a message for people.
public struct JobError: Codable, Equatable, Sendable, Error {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

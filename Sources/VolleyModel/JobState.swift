/// Where a job is in its life. `completed`, `failed` and `cancelled` are final: a result file exists.
public enum JobState: String, Codable, Sendable, CaseIterable {
    case queued, running, completed, failed, cancelled

    public var isFinished: Bool {
        switch self {
        case .queued, .running: false
        case .completed, .failed, .cancelled: true
        }
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

import ArgumentParser
import VolleyFleet
import VolleyModel

/// Every exit status of `volley`, one place (the README's table is this enum). Scripts and CI
/// rely on these numbers: change them only with a release note.
enum ExitStatus: Int32, CaseIterable {
    /// The job completed and every threshold passed (warnings do not change this).
    case passed = 0
    /// Something went wrong that is not the spec's fault: the job failed or was cancelled by
    /// someone else, the agent could not be reached or answered an error, a file could not be written.
    case failed = 1
    /// The input was refused before anything ran: a bad command line, or a spec that is invalid
    /// (locally or by the agent) or that the agent does not admit (target outside its allowlist,
    /// over its limits).
    case invalidInput = 2
    /// The agent refused the token (HTTP 401).
    case refused = 3
    /// The job ran to the end, and at least one threshold failed.
    case thresholdsFailed = 4
    /// A fleet run where some agents did not complete (without `--allow-partial`).
    case partialFleet = 5
    /// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
    case interrupted = 130

    var exitCode: ExitCode { ExitCode(rawValue) }

    /// What a finished job's result means for the exit status. `interrupted`: this process stopped
    /// the job itself (Ctrl-C); a job cancelled by someone else is a failure.
    static func of(_ result: JobResult, interrupted: Bool = false) -> ExitStatus {
        switch result.state {
        case .completed: return result.verdict?.passed == false ? .thresholdsFailed : .passed
        case .cancelled where interrupted: return .interrupted
        default: return .failed
        }
    }

    /// What an agent's refusal means: a refusal of the spec itself (its fields, the allowlist, the
    /// limits, an id or address taken) is invalid input; a refused token is 3; an agent that is
    /// unreachable, full or stopping is 1 (try later).
    static func of(_ error: AgentClientError) -> ExitStatus {
        guard case .api(_, let code, _, _) = error else { return .failed }
        switch code {
        case "unauthorized", "cross_origin", "host_not_allowed": return .refused
        case "bad_json", "invalid_spec", "target_not_allowed", "limit_exceeded", "id_conflict", "address_in_use",
             "body_too_large":
            return .invalidInput
        default: return .failed
        }
    }

    /// One line per status, for `--help` texts.
    static let table = """
        Exit status: 0 passed, 1 failed (job, agent or I/O), 2 invalid spec or usage, 3 token refused,
        4 thresholds failed, 5 some fleet agents failed, 130 interrupted.
        """
}

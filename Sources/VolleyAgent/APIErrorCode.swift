/// Every error code the API answers with, and the HTTP status that goes with it. openapi.yaml's `Error`
/// schema and the README list exactly these (a test checks both).
public enum APIErrorCode: String, CaseIterable, Sendable {
    /// 400: the body is not JSON.
    case badJSON = "bad_json"
    /// 400: the spec is JSON but not a valid job (the field is named).
    case invalidSpec = "invalid_spec"
    /// 400: a query parameter is wrong.
    case invalidQuery = "invalid_query"
    /// 401: no or wrong `Authorization: Bearer` token.
    case unauthorized
    /// 403: the target or listen address is outside the allowlist.
    case targetNotAllowed = "target_not_allowed"
    /// 403: the spec asks for more than the agent's limits allow.
    case limitExceeded = "limit_exceeded"
    /// 403: the job's sockets need privileges the agent lacks.
    case permissionDenied = "permission_denied"
    /// 403: a web page of another origin, and the agent has no token.
    case crossOrigin = "cross_origin"
    /// 404: no such job or route.
    case notFound = "not_found"
    /// 405: the path exists, the method does not (with `Allow`).
    case methodNotAllowed = "method_not_allowed"
    /// 409: another job of this agent listens there.
    case addressInUse = "address_in_use"
    /// 409: another process holds the port.
    case portInUse = "port_in_use"
    /// 409: the client id exists with another spec.
    case idConflict = "id_conflict"
    /// 409: the job has no result yet.
    case notFinished = "not_finished"
    /// 409: the job has already ended.
    case notActive = "not_active"
    /// 409: the job must be cancelled before it is deleted.
    case jobActive = "job_active"
    /// 413: the body is larger than the limit.
    case bodyTooLarge = "body_too_large"
    /// 415: a POST that is not `application/json`.
    case unsupportedMediaType = "unsupported_media_type"
    /// 421: a `Host` the agent does not answer for.
    case hostNotAllowed = "host_not_allowed"
    /// 429: too many jobs already wait.
    case queueFull = "queue_full"
    /// 429: the job does not fit beside the admitted ones in the memory or socket budget.
    case budgetExhausted = "budget_exhausted"
    /// 500: the data folder could not be written or read.
    case storageError = "storage_error"
    /// 500: opening the job's sockets failed for another reason.
    case socketError = "socket_error"
    /// 500: the answer could not be encoded (a value JSON cannot hold); a bug to report, never an empty 200.
    case internalError = "internal_error"
    /// 503: the agent is stopping.
    case shuttingDown = "shutting_down"
    /// 503: the agent holds as many connections as it serves; this one is closed (with `Retry-After`).
    case serverBusy = "server_busy"

    public var status: Int {
        switch self {
        case .badJSON, .invalidSpec, .invalidQuery: 400
        case .unauthorized: 401
        case .targetNotAllowed, .limitExceeded, .permissionDenied, .crossOrigin: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .addressInUse, .portInUse, .idConflict, .notFinished, .notActive, .jobActive: 409
        case .bodyTooLarge: 413
        case .unsupportedMediaType: 415
        case .hostNotAllowed: 421
        case .queueFull, .budgetExhausted: 429
        case .storageError, .socketError, .internalError: 500
        case .shuttingDown, .serverBusy: 503
        }
    }
}

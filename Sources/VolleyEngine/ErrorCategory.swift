import Glibc

/// The kinds of failed send/receive calls a job counts separately, like wrk's split error counters.
public enum ErrorCategory: Int, CaseIterable, Sendable {
    /// EAGAIN: the socket buffer stayed full for the whole send timeout; the batch is retried.
    case wouldBlock
    /// ENOBUFS: the kernel or device queue was out of buffers; the batch is retried after a pause.
    case noBuffers
    /// ECONNREFUSED: an ICMP port unreachable came back; nobody listens at the target.
    case connectionRefused
    /// EMSGSIZE: the datagram does not fit the path or socket.
    case messageTooLong
    /// ENETUNREACH / EHOSTUNREACH.
    case unreachable
    /// EPERM / EACCES, e.g. a firewall rule.
    case permissionDenied
    /// Anything else.
    case other

    public init(errno code: Int32) {
        switch code {
        case EAGAIN: self = .wouldBlock
        case ENOBUFS: self = .noBuffers
        case ECONNREFUSED: self = .connectionRefused
        case EMSGSIZE: self = .messageTooLong
        case ENETUNREACH, EHOSTUNREACH: self = .unreachable
        case EPERM, EACCES: self = .permissionDenied
        default: self = .other
        }
    }

    /// The key used in results: `{"errors":{"connection_refused":3}}`.
    public var name: String {
        switch self {
        case .wouldBlock: "would_block"
        case .noBuffers: "no_buffers"
        case .connectionRefused: "connection_refused"
        case .messageTooLong: "message_too_long"
        case .unreachable: "unreachable"
        case .permissionDenied: "permission_denied"
        case .other: "other"
        }
    }
}

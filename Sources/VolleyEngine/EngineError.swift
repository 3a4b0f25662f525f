import Glibc
import VolleyModel

/// Why a job could not be set up. Raised before any traffic flows, so callers can refuse the job.
public enum EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Another socket (of another process) already holds the listen address and port.
    case addressInUse(Endpoint)
    /// The address is not on this host (or IPv6 is off).
    case addressNotAvailable(Endpoint)
    /// Binding needs privileges the agent lacks (ports below 1024).
    case permissionDenied(Endpoint)
    /// The kernel refuses to send there: a broadcast address (no SO_BROADCAST), or a firewall rule.
    case sendNotPermitted(Endpoint)
    /// GSO segments (`payload_bytes` each) larger than the path to the target carries.
    case segmentExceedsPath(payloadBytes: Int, largest: Int, mtu: Int)
    /// Any other socket set-up failure.
    case socket(SocketError)
    /// `cpu_latency_us`: the PM QoS device could not be opened (missing, or no write access).
    case cpuLatencyUnavailable(path: String, errno: Int32)

    /// The spec field the error is about, when it is not the job's address.
    public var field: String? {
        switch self {
        case .segmentExceedsPath: "payload_bytes"
        case .cpuLatencyUnavailable: "cpu_latency_us"
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .addressInUse(let e): "port \(e.port) of \(e.address) is already held by another socket of this host"
        case .addressNotAvailable(let e): "\(e) is not an address of this host"
        case .permissionDenied(let e): "binding \(e) is not permitted (ports below 1024, such as STAMP's 862, need root or CAP_NET_BIND_SERVICE; or listen on a port from 1024 up)"
        case .sendNotPermitted(let e): "sending to \(e) is not permitted: it is a broadcast address (Volley does not send broadcasts) or a firewall rule refuses it"
        case .segmentExceedsPath(let payload, let largest, let mtu):
            "field 'payload_bytes' is \(payload); with 'gso' each segment is one datagram, and the path to the target (MTU \(mtu)) carries at most \(largest) payload bytes"
        case .socket(let error): "socket set-up failed: \(error)"
        case .cpuLatencyUnavailable(let path, let code):
            "field 'cpu_latency_us' needs a CPU latency request at \(path), which could not be opened (\(String(cString: strerror(code))))\(code == EACCES || code == EPERM ? ": this process needs write access to it (run as root, or give its user the device)" : code == ENOENT ? ": this kernel has no PM QoS CPU latency device" : ""); leave 'cpu_latency_us' out"
        }
    }

    /// Classifies a failure to open, bind or connect a socket for `endpoint`.
    init(binding endpoint: Endpoint, _ error: SocketError) {
        switch error.errno {
        case EADDRINUSE: self = .addressInUse(endpoint)
        case EADDRNOTAVAIL, EAFNOSUPPORT, ENETUNREACH: self = .addressNotAvailable(endpoint)
        case EACCES, EPERM: self = error.function.hasPrefix("connect") ? .sendNotPermitted(endpoint) : .permissionDenied(endpoint)
        default: self = .socket(error)
        }
    }
}

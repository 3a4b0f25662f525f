import CBatchIO
import Glibc
import VolleyModel

/// An echo worker's warm-up (`warm_up`, on by default): before a request that follows a sleep, one
/// datagram through the loopback to a socket of the worker's own, read straight back, so that the
/// kernel's UDP send and receive paths have run once when the request is stamped.
///
/// Why: on a VM a sleep is a VM exit (the timer that ends it, and the halt of an idle CPU), and after
/// one the guest kernel's paths run slower while user code does not: a busy-waiting C client that made
/// a single exit (one `cpuid`) in each 1 ms gap measured 1.2–1.6 µs more per round trip, sleeping
/// clients the same, and one loopback datagram before each request won about 1 µs of it back
/// (Benchmarks/README.md, "What the sleep costs is a VM exit"). The warm-up is not part of the round
/// trip: it happens before the stamp.
///
/// The datagram never leaves the host: the socket is bound to the loopback address of the target's
/// family and connected to itself, so the kernel delivers it nothing from anyone else, and each
/// warm-up reads its queue empty (bounded reads). It is one socket per echo thread, counted in the
/// job's footprint. If the loopback cannot be used (no such address in a namespace, a refused send),
/// the worker stops warming up and the result says why (`io.warm_up_error`); the job goes on.
final class KernelWarmUp {
    private let socket: UDPSocket
    /// Warm-ups done.
    private(set) var count: UInt64 = 0
    /// The call that failed, after which this worker stopped warming up.
    private(set) var failure: SocketError?

    /// A socket on `family`'s loopback address, connected to itself.
    init(family: Int32) throws(SocketError) {
        let loopback = Endpoint(address: IPAddress(family == AF_INET6 ? "::1" : "127.0.0.1")!, port: 0)
        socket = try UDPSocket(family: family)
        try socket.bind(loopback)
        guard let own = try socket.localEndpoint() else { throw SocketError("getsockname", errno: EAFNOSUPPORT) }
        try socket.connect(own)
    }

    /// One warm-up; after a failure, nothing (one failed call is enough to know).
    @inline(__always)
    func run() {
        guard failure == nil else { return }
        let rc = CBatchIO_warm_up(socket.fd)
        if rc < 0 {
            failure = SocketError("loopback warm-up", errno: -rc)
            return
        }
        count &+= 1
    }

    /// For tests: whether anything is left queued on the socket (a read that does not block).
    var hasQueued: Bool {
        var byte: UInt8 = 0
        return recv(socket.fd, &byte, 1, Int32(MSG_DONTWAIT) | Int32(MSG_PEEK)) >= 0
    }

    /// The socket's own address, for tests that try to reach it from elsewhere.
    func localEndpoint() throws(SocketError) -> Endpoint? { try socket.localEndpoint() }
}

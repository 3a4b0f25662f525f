import CBatchIO
import Glibc
import VolleyModel

/// A UDP socket that owns its file descriptor and closes it when released.
/// Set-up calls throw `SocketError`; the hot path uses `fd` directly through `BatchIO`.
public final class UDPSocket: Sendable {
    public let fd: Int32

    public init(family: Int32) throws(SocketError) {
        fd = try syscall("socket") { Glibc.socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
    }

    deinit { Glibc.close(fd) }

    public func bind(_ endpoint: Endpoint) throws(SocketError) {
        try endpoint.withSockAddr { (sa, len) throws(SocketError) in try syscall("bind") { Glibc.bind(fd, sa, len) } }
    }

    /// A connected socket sends without a per-message address and learns of ICMP errors (ECONNREFUSED).
    public func connect(_ endpoint: Endpoint) throws(SocketError) {
        try endpoint.withSockAddr { (sa, len) throws(SocketError) in
            try syscall("connect") { Glibc.connect(fd, sa, len) }
        }
    }

    public func localEndpoint() throws(SocketError) -> Endpoint? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { (p) throws(SocketError) in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SocketError) in
                try syscall("getsockname") { getsockname(fd, sa, &length) }
            }
        }
        return Endpoint(storage)
    }

    public func setOption(_ level: Int32, _ name: Int32, _ value: Int32) throws(SocketError) {
        var v = value
        try syscall("setsockopt") { setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) }
    }

    public func option(_ level: Int32, _ name: Int32) throws(SocketError) -> Int32 {
        var v: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        try syscall("getsockopt") { getsockopt(fd, level, name, &v, &len) }
        return v
    }

    /// Software receive timestamps on every datagram read (SO_TIMESTAMPING).
    public func enableReceiveTimestamps() throws(SocketError) {
        let rc = CBatchIO_enable_rx_timestamps(fd)
        if rc < 0 { throw SocketError("setsockopt(SO_TIMESTAMPING)", errno: -rc) }
    }

    /// Asks for every received datagram's TTL / hop limit (STAMP reflectors copy it into the reply).
    public func enableReceiveTTL() throws(SocketError) {
        let rc = CBatchIO_enable_recv_ttl(fd)
        if rc < 0 { throw SocketError("setsockopt(IP_RECVTTL)", errno: -rc) }
    }

    /// The buffer size the kernel granted (getsockopt reports the doubled, capped value it uses);
    /// nil only if getsockopt fails on this open socket, which leaves the result field out.
    public func grantedBufferBytes(receive: Bool) -> Int? {
        var v: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, receive ? SO_RCVBUF : SO_SNDBUF, &v, &len) == 0 else { return nil }
        return Int(v)
    }

    /// Blocking calls give up after `milliseconds` with EAGAIN, so workers notice a stop request in time.
    public func setTimeouts(milliseconds: Int) throws(SocketError) {
        for name in [SO_RCVTIMEO, SO_SNDTIMEO] { try setTimeout(name, milliseconds: milliseconds) }
    }

    /// Blocking receives wait at most `milliseconds`; 0 lets them wait until a datagram or a signal comes.
    func setReceiveTimeout(milliseconds: Int) throws(SocketError) { try setTimeout(SO_RCVTIMEO, milliseconds: milliseconds) }

    private func setTimeout(_ name: Int32, milliseconds: Int) throws(SocketError) {
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        try syscall("setsockopt") { setsockopt(fd, SOL_SOCKET, name, &tv, socklen_t(MemoryLayout<timeval>.size)) }
    }

    /// Asks for a large buffer; as root (CAP_NET_ADMIN) past `rmem_max`/`wmem_max`, else up to them.
    public func requestBuffer(receive: Bool, bytes: Int32) {
        let force = receive ? SO_RCVBUFFORCE : SO_SNDBUFFORCE
        if (try? setOption(SOL_SOCKET, force, bytes)) == nil {
            try? setOption(SOL_SOCKET, receive ? SO_RCVBUF : SO_SNDBUF, bytes)
        }
    }
}

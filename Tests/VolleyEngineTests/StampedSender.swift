import Glibc
import VolleyTestSupport
@testable import VolleyEngine

/// Sends single stamped datagrams in whatever order a test wants, from its own loopback port, and
/// reads what comes back to that port.
final class StampedSender {
    private let fd: Int32
    private let port: UInt16
    private let tag: UInt32
    private let flow: UInt32
    /// The port it sends from.
    let sourcePort: UInt16

    init(port: UInt16, tag: UInt32, flow: UInt32) {
        self.port = port
        self.tag = tag
        self.flow = flow
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var size: Int32 = 16 << 20
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, 4) != 0 { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4) }
        var tv = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        sourcePort = bindLoopback(fd)
    }

    /// One datagram of `size` bytes (at least the stamp), with the reply flag set when `asReply`.
    func send(sequence: UInt64, size: Int = 48, asReply: Bool = false) {
        var payload = [UInt8](repeating: 0, count: max(size, Stamp.size))
        payload.withUnsafeMutableBytes {
            Stamp.write($0.baseAddress!, tag: tag, flow: flow, sequence: sequence, sentNanos: 0)
            if asReply { Stamp.markReply($0.baseAddress!) }
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        usleep(50)
    }

    /// Reads replies until none has come for 0.3 s: how many, their bytes, and how many carry the reply flag.
    func drain() -> (packets: Int, bytes: Int, flagged: Int) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var packets = 0
        var bytes = 0
        var flagged = 0
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 { break }
            packets += 1
            bytes += n
            if buffer.withUnsafeBytes({ Stamp.kind($0.baseAddress!, length: n) }) == .reply { flagged += 1 }
        }
        return (packets, bytes, flagged)
    }

    deinit { close(fd) }
}

import Glibc
import VolleyTestSupport
@testable import VolleyEngine

/// Sends single stamped datagrams in whatever order a test wants.
final class StampedSender {
    private let fd: Int32
    private let port: UInt16
    private let tag: UInt32
    private let flow: UInt32

    init(port: UInt16, tag: UInt32, flow: UInt32) {
        self.port = port
        self.tag = tag
        self.flow = flow
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        _ = bindLoopback(fd)
    }

    func send(sequence: UInt64) {
        var payload = [UInt8](repeating: 0, count: 48)
        payload.withUnsafeMutableBytes { Stamp.write($0.baseAddress!, tag: tag, flow: flow, sequence: sequence, sentNanos: 0) }
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

    deinit { close(fd) }
}

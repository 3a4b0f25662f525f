import Foundation
import Glibc
import Synchronization

/// A test-side UDP reflector with known faults, to check echo accounting exactly. Counting arrivals
/// from 1, it drops every `dropEvery`-th datagram, sends every `doubleEvery`-th back twice, and holds
/// arrival `n` where `n % 100 == swapAt` until the next one has gone back (swapping neighbours).
public final class MisbehavingReflector: @unchecked Sendable {  // fd immutable; counts atomic
    public let port: UInt16
    private let fd: Int32
    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)
    public let dropEvery: Int
    public let doubleEvery: Int
    public let swapAt: Int?

    public init(dropEvery: Int = 10, doubleEvery: Int = 25, swapAt: Int? = 33, ipv6: Bool = false) {
        self.dropEvery = dropEvery
        self.doubleEvery = doubleEvery
        self.swapAt = swapAt
        fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        precondition(fd >= 0)
        var size: Int32 = 16 << 20
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, 4) != 0 { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4) }
        var tv = timeval(tv_sec: 0, tv_usec: 20_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        port = ipv6 ? bindLoopback6(fd) : bindLoopback(fd)
        Thread { [self] in serve() }.start()
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var held: (data: [UInt8], from: sockaddr_storage, length: socklen_t)?
        var arrivals = 0
        while running.load(ordering: .relaxed) {
            var from = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
            }
            guard n >= 0 else { continue }
            arrivals += 1
            if arrivals % dropEvery == 0 { continue }
            let data = Array(buffer.prefix(n))
            if let swapAt, arrivals % 100 == swapAt {
                held = (data, from, length)
                continue
            }
            reply(data, to: &from, length)
            if arrivals % doubleEvery == 0 { reply(data, to: &from, length) }
            if var h = held {
                reply(h.data, to: &h.from, h.length)
                held = nil
            }
        }
        done.signal()
    }

    private func reply(_ data: [UInt8], to address: inout sockaddr_storage, _ length: socklen_t) {
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, data, data.count, 0, $0, length) }
        }
    }

    /// The counts an echo job of `sent` datagrams must report against this reflector.
    public func expected(sent: Int) -> (received: Int, lost: Int, duplicates: Int, reordered: Int) {
        let dropped = (1...sent).filter { $0 % dropEvery == 0 }.count
        let doubled = (1...sent).filter { $0 % doubleEvery == 0 && $0 % dropEvery != 0 }.count
        let swapped = swapAt.map { at in (1...sent).filter { $0 % 100 == at && $0 % dropEvery != 0 && $0 < sent }.count } ?? 0
        return (sent - dropped, dropped, doubled, swapped)
    }

    public func stop() {
        running.store(false, ordering: .relaxed)
        done.wait()
    }

    deinit { close(fd) }
}

/// Binds `fd` (AF_INET6) to [::1] on a free port and returns the port.
public func bindLoopback6(_ fd: Int32) -> UInt16 {
    var addr = sockaddr_in6()
    addr.sin6_family = sa_family_t(AF_INET6)
    addr.sin6_addr = in6addr_loopback
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
    }
    precondition(rc == 0, "bind [::1] failed: \(errno)")
    var bound = sockaddr_in6()
    var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
    _ = withUnsafeMutablePointer(to: &bound) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: bound.sin6_port)
}

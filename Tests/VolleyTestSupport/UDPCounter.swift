import Foundation
import Glibc
import Synchronization
import VolleyModel

/// A plain UDP socket on 127.0.0.1 with its own reader thread: the tests' independent count of what
/// arrived, using only recv(2) (none of the engine's code).
public final class UDPCounter: @unchecked Sendable {  // fd is immutable; counts are atomics
    public let port: UInt16
    private let fd: Int32
    private let packets = Atomic<Int>(0)
    private let bytes = Atomic<Int>(0)
    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)

    public init() {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        precondition(fd >= 0)
        var size: Int32 = 64 << 20
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, 4) != 0 { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4) }
        var tv = timeval(tv_sec: 0, tv_usec: 20_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        port = bindLoopback(fd)
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while running.load(ordering: .relaxed) {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n >= 0 {
                    packets.wrappingAdd(1, ordering: .relaxed)
                    bytes.wrappingAdd(n, ordering: .relaxed)
                }
            }
            done.signal()
        }
        thread.start()
    }

    public var packetCount: Int { packets.load(ordering: .relaxed) }
    public var byteCount: Int { bytes.load(ordering: .relaxed) }

    /// Waits until no datagram has arrived for `quiet` seconds, then stops reading and returns the count.
    public func drain(quiet: Double = 0.3) -> (packets: Int, bytes: Int) {
        var last = -1
        while last != packetCount {
            last = packetCount
            Thread.sleep(forTimeInterval: quiet)
        }
        running.store(false, ordering: .relaxed)
        done.wait()
        return (packetCount, byteCount)
    }

    deinit { close(fd) }
}

/// Binds `fd` to 127.0.0.1 on a free port and returns the port.
public func bindLoopback(_ fd: Int32, port: UInt16 = 0) -> UInt16 {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    precondition(rc == 0, "bind failed: \(errno)")
    var bound = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: bound.sin_port)
}

/// A bound receiver on 127.0.0.1 (its blocking reads end after `receiveTimeout` seconds) and a
/// sender connected to it; the caller closes both.
public func connectedLoopbackPair(receiveTimeout seconds: Int = 1) -> (send: Int32, receive: Int32) {
    let receive = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    let port = bindLoopback(receive)
    let send = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(send, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var tv = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(receive, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    return (send, receive)
}

/// A UDP port on 127.0.0.1 that was free a moment ago (bound, read back, released).
public func freeUDPPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    return bindLoopback(fd)
}

/// Sends `count` datagrams of `size` bytes to 127.0.0.1:`port` with plain sendto (from `socket`, or a
/// fresh one), pausing now and then so a receiver on loopback keeps up. Returns how many the kernel accepted.
@discardableResult
public func sendDatagrams(count: Int, size: Int, to port: UInt16, from fd: Int32? = nil, pauseEvery: Int = 200) -> Int {
    let own = fd == nil ? socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) : -1
    defer { if own >= 0 { close(own) } }
    let sender = fd ?? own
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let payload = [UInt8](repeating: 0x5a, count: size)
    var sent = 0
    for i in 0..<count {
        let n = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(sender, payload, size, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if n == size { sent += 1 }
        if i % pauseEvery == pauseEvery - 1 { usleep(1000) }
    }
    return sent
}

/// Records the size of every datagram that arrives, for checking payload mixes.
public final class UDPSizeRecorder: @unchecked Sendable {  // sizes guarded by the mutex
    public let port: UInt16
    private let fd: Int32
    private let sizes = Locked<[Int: Int]>([:])
    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)

    public init() {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var size: Int32 = 64 << 20
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, 4) != 0 { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4) }
        var tv = timeval(tv_sec: 0, tv_usec: 20_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        port = bindLoopback(fd)
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while running.load(ordering: .relaxed) {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n >= 0 { sizes.withLock { $0[n, default: 0] += 1 } }
            }
            done.signal()
        }.start()
    }

    /// Stops after `quiet` seconds without arrivals; returns datagram counts by size.
    public func drain(quiet: Double = 0.3) -> [Int: Int] {
        var last = -1
        while true {
            let now = sizes.withLock { $0.values.reduce(0, +) }
            if now == last { break }
            last = now
            Thread.sleep(forTimeInterval: quiet)
        }
        running.store(false, ordering: .relaxed)
        done.wait()
        return sizes.withLock { $0 }
    }

    deinit { close(fd) }
}

/// A plain client socket that sends datagrams to a loopback port and counts what comes back on it.
public final class UDPEchoClient: @unchecked Sendable {
    private let fd: Int32
    private let port: UInt16

    public init(port: UInt16) {
        self.port = port
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var size: Int32 = 32 << 20
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, 4) != 0 { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4) }
        var tv = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = bindLoopback(fd)
    }

    public func send(count: Int, size: Int) -> Int {
        sendDatagrams(count: count, size: size, to: port, from: fd, pauseEvery: 100)
    }

    /// Reads replies until none has come for 0.3 s.
    public func drain() -> (packets: Int, bytes: Int) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var packets = 0
        var bytes = 0
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 { break }
            packets += 1
            bytes += n
        }
        return (packets, bytes)
    }

    deinit { close(fd) }
}

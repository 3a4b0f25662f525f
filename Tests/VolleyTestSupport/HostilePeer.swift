import Foundation
import Glibc
import VolleyModel

/// Volley's 32-byte stamp, built here so that tests can forge it without the engine. The layout is
/// the one of `Sources/VolleyEngine/Stamp.swift` (keep the two in step), all fields big-endian:
///
///     0  magic "VLY1" (0x564C5931)    4  job tag
///     8  flow number                 12  flags (0; bit 0 marks a reflector's reply)
///    16  sequence number             24  send time, ns on the sender's CLOCK_MONOTONIC
public struct PeerStamp: Equatable, Sendable {
    public static let size = 32
    public static let volleyMagic: UInt32 = 0x564C_5931
    public var magic: UInt32
    public var tag: UInt32
    public var flow: UInt32
    public var sequence: UInt64
    public var sentNanos: UInt64

    public init(tag: UInt32, flow: UInt32 = 0, sequence: UInt64 = 0, sentNanos: UInt64 = PeerStamp.monotonicNanos(),
                magic: UInt32 = PeerStamp.volleyMagic) {
        self.magic = magic
        self.tag = tag
        self.flow = flow
        self.sequence = sequence
        self.sentNanos = sentNanos
    }

    /// Reads the first 32 bytes whatever their magic; nil when there are fewer.
    public init?(reading bytes: [UInt8]) {
        guard bytes.count >= Self.size else { return nil }
        func field<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            bytes[offset..<offset + MemoryLayout<T>.size].reduce(T(0)) { $0 << 8 | T($1) }
        }
        self.init(tag: field(4, UInt32.self), flow: field(8, UInt32.self), sequence: field(16, UInt64.self),
                  sentNanos: field(24, UInt64.self), magic: field(0, UInt32.self))
    }

    /// The stamp followed by zeros up to `length` bytes; shorter lengths cut the stamp itself.
    public func datagram(length: Int = 64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(length, Self.size))
        for value in [magic, tag, flow, UInt32(0)] { bytes += withUnsafeBytes(of: value.bigEndian, Array.init) }
        for value in [sequence, sentNanos] { bytes += withUnsafeBytes(of: value.bigEndian, Array.init) }
        guard length > Self.size else { return Array(bytes.prefix(length)) }
        return bytes + [UInt8](repeating: 0, count: length - Self.size)
    }

    /// CLOCK_MONOTONIC in ns, the clock a Volley sender stamps with (on the same host, RTTs come out right).
    public static func monotonicNanos() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}

/// A UDP peer that misbehaves on purpose toward one loopback endpoint (127.0.0.0/8 or ::1, never
/// anything else). Every operation returns how many datagrams the kernel accepted, so tests can
/// assert exact counts; none runs longer than its `seconds`.
public final class HostilePeer {
    public let target: Endpoint
    /// The port the peer sends from (and reads replies on, see `receive`).
    public let localPort: UInt16
    private let fd: Int32

    public init(target: Endpoint) {
        precondition(target.address.isLoopback, "HostilePeer only talks to loopback, not \(target)")
        self.target = target
        fd = openUDPSocket(ipv6: target.address.isIPv6)
        localPort = target.address.isIPv6 ? bindLoopback6(fd) : bindLoopback(fd)
    }

    deinit { close(fd) }

    /// Sends `bytes` as one datagram; true when the kernel took all of it.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool { send(bytes, from: fd) }

    /// What changes from one datagram of a flood to the next.
    public enum Varying: Sendable { case tag, flow }

    /// `count` stamped datagrams of `length` bytes, datagram i with tag (or flow) `first + i` and sequence 0,
    /// as fast as the kernel takes them, round-robin from `sockets` source ports (SO_REUSEPORT spreads
    /// those over a sink's threads), until done or `seconds` are up.
    public func flood(count: Int, varying: Varying = .tag, first: UInt32 = 1, fixed: UInt32 = 0x486F_7374,
                      length: Int = 64, sockets: Int = 1, seconds: Double = 5) -> Int {
        let extra = (1..<max(1, sockets)).map { _ in openUDPSocket(ipv6: target.address.isIPv6) }
        defer { extra.forEach { close($0) } }
        let fds = [fd] + extra
        let deadline = PeerStamp.monotonicNanos() + UInt64(seconds * 1e9)
        var sent = 0
        for i in 0..<count where PeerStamp.monotonicNanos() < deadline {
            let value = first &+ UInt32(truncatingIfNeeded: i)
            let stamp = varying == .tag ? PeerStamp(tag: value, flow: fixed) : PeerStamp(tag: fixed, flow: value)
            if send(stamp.datagram(length: length), from: fds[i % fds.count]) { sent += 1 }
        }
        return sent
    }

    /// `count` datagrams of one tag and flow whose sequence numbers are `first`, `first + step`, …
    public func sequenceJumps(count: Int, step: UInt64, tag: UInt32, flow: UInt32 = 0, first: UInt64 = 0,
                              seconds: Double = 5) -> Int {
        let deadline = PeerStamp.monotonicNanos() + UInt64(seconds * 1e9)
        var sent = 0
        for i in 0..<count where PeerStamp.monotonicNanos() < deadline {
            let sequence = first &+ UInt64(i) &* step
            if send(PeerStamp(tag: tag, flow: flow, sequence: sequence).datagram()) { sent += 1 }
        }
        return sent
    }

    /// One datagram for each of `lengths`, each the first bytes of a valid stamp (0…31: too short to be one).
    public func truncatedStamps(tag: UInt32, lengths: ClosedRange<Int> = 0...31) -> Int {
        let full = PeerStamp(tag: tag).datagram(length: PeerStamp.size)
        return lengths.filter { send(Array(full.prefix($0))) }.count
    }

    /// Stamped datagrams of the given sizes (65,507 is the largest UDP payload over IPv4).
    public func oversize(tag: UInt32, lengths: [Int] = [65_507], sequence: UInt64 = 0) -> Int {
        lengths.filter { send(PeerStamp(tag: tag, sequence: sequence).datagram(length: $0)) }.count
    }

    /// `count` datagrams laid out as stamps (sequence 0, 1, …) but with `magic` in place of "VLY1".
    public func wrongMagic(count: Int, tag: UInt32, magic: UInt32 = 0x564C_5932) -> Int {
        (0..<count).filter { send(PeerStamp(tag: tag, sequence: UInt64($0), magic: magic).datagram()) }.count
    }

    /// The next datagram that arrives on the peer's port within `seconds`, or nil.
    public func receive(seconds: Double = 1) -> [UInt8]? {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n < 0 ? nil : Array(buffer.prefix(n))
    }

    private func send(_ bytes: [UInt8], from socket: Int32) -> Bool {
        withSocketAddress(target) { sendto(socket, bytes, bytes.count, 0, $0, $1) } == bytes.count
    }
}

extension IPAddress {
    /// 127.0.0.0/8 or ::1.
    var isLoopback: Bool { isIPv6 ? bytes == [UInt8](repeating: 0, count: 15) + [1] : bytes[0] == 127 }
}

/// A UDP socket of the right family with large buffers (SO_*BUFFORCE as root, else what the limits allow).
public func openUDPSocket(ipv6: Bool = false) -> Int32 {
    let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    precondition(fd >= 0, "socket failed: \(errno)")
    var size: Int32 = 32 << 20
    if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, 4) != 0 { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4) }
    if setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, 4) != 0 { setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, 4) }
    return fd
}

/// Calls `body` with `endpoint` as a sockaddr_in or sockaddr_in6.
func withSocketAddress<R>(_ endpoint: Endpoint, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
    if endpoint.address.isIPv6 {
        var a = sockaddr_in6()
        a.sin6_family = sa_family_t(AF_INET6)
        a.sin6_port = endpoint.port.bigEndian
        withUnsafeMutableBytes(of: &a.sin6_addr) { $0.copyBytes(from: endpoint.address.bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_port = endpoint.port.bigEndian
    withUnsafeMutableBytes(of: &a.sin_addr) { $0.copyBytes(from: endpoint.address.bytes) }
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
}

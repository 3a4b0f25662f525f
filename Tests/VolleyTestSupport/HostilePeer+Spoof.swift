import Glibc
import VolleyModel

/// Why a spoofed datagram could not be sent.
public struct SpoofError: Error, CustomStringConvertible {
    public let function: String
    public let errno: Int32
    public var description: String { "\(function) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

extension HostilePeer {
    /// Whether this process may open raw IPv4 sockets (root or CAP_NET_RAW). Tests that need one
    /// should be disabled when it is false, saying so.
    public static var rawSocketsAvailable: Bool {
        let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_RAW))
        if fd >= 0 { close(fd) }
        return fd >= 0
    }

    /// Sends ONE UDP datagram to `destination` that claims to come from `source` (both IPv4
    /// loopback): the IPv4 and UDP headers are written here and handed to a raw socket
    /// (IPPROTO_RAW implies IP_HDRINCL), so the kernel sends them as they are. Returns 1.
    ///
    /// Pointing `source` at one reflector and `destination` at another starts a loop between them.
    /// IPv6 has no IP_HDRINCL equivalent for this, so only IPv4 is offered.
    @discardableResult
    public static func spoof(from source: Endpoint, to destination: Endpoint,
                             payload: [UInt8] = PeerStamp(tag: 0x5370_6F6F).datagram()) throws(SpoofError) -> Int {
        for end in [source, destination] {
            precondition(!end.address.isIPv6 && end.address.isLoopback, "spoof: \(end) is not in 127.0.0.0/8")
        }
        let packet = spoofedPacket(from: source, to: destination, payload: payload)
        let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_RAW))
        guard fd >= 0 else { throw SpoofError(function: "socket(SOCK_RAW)", errno: errno) }
        defer { close(fd) }
        // For a raw socket the port in the address is ignored; the UDP header carries it.
        let n = withSocketAddress(destination) { sendto(fd, packet, packet.count, 0, $0, $1) }
        guard n == packet.count else { throw SpoofError(function: "sendto(SOCK_RAW)", errno: errno) }
        return 1
    }

    /// The bytes `spoof` sends: a 20-byte IPv4 header (no options, TTL 64, header checksum set),
    /// an 8-byte UDP header with checksum 0 ("none", allowed over IPv4), then `payload`.
    public static func spoofedPacket(from source: Endpoint, to destination: Endpoint, payload: [UInt8]) -> [UInt8] {
        let total = 20 + 8 + payload.count
        precondition(total <= 65_535, "spoof: payload too large for one IPv4 packet")
        func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        var ip: [UInt8] = [0x45, 0] + be16(total) + [0, 0, 0, 0, 64, UInt8(IPPROTO_UDP), 0, 0]
        ip += source.address.bytes + destination.address.bytes
        let checksum = internetChecksum(ip)
        ip[10] = UInt8(checksum >> 8)
        ip[11] = UInt8(checksum & 0xFF)
        let udp = be16(Int(source.port)) + be16(Int(destination.port)) + be16(8 + payload.count) + [0, 0]
        return ip + udp + payload
    }

    /// RFC 1071: the ones' complement of the ones' complement sum of 16-bit big-endian words.
    static func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}

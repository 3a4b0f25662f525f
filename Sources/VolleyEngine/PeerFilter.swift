import Glibc
import VolleyModel

/// Decides, per datagram and without allocating, whether a reflector may answer a source address:
/// it must be inside the agent's allowlist and must not be the reflector's own socket. Blocks are
/// compiled to 128-bit prefixes once, when the job starts.
struct PeerFilter: Sendable {
    enum Verdict { case allowed, outsideAllowlist, ownSocket }

    private struct Block: Sendable {
        var v6: Bool
        var high: UInt64
        var low: UInt64
        var maskHigh: UInt64
        var maskLow: UInt64

        init(_ cidr: CIDR) {
            v6 = cidr.network.isIPv6
            (high, low) = Self.split(cidr.network.bytes)
            let bits = v6 ? cidr.prefixLength : cidr.prefixLength + 96  // IPv4 sits in the low 32 bits
            maskHigh = bits >= 64 ? .max : (bits == 0 ? 0 : UInt64.max << UInt64(64 - bits))
            maskLow = bits <= 64 ? 0 : (bits >= 128 ? .max : UInt64.max << UInt64(128 - bits))
            if !v6 { maskHigh = 0 }
        }

        static func split(_ bytes: [UInt8]) -> (UInt64, UInt64) {
            if bytes.count == 4 { return (0, bytes.reduce(0) { $0 << 8 | UInt64($1) }) }
            return (bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }, bytes.suffix(8).reduce(0) { $0 << 8 | UInt64($1) })
        }

        @inline(__always)
        func contains(v6 isV6: Bool, _ h: UInt64, _ l: UInt64) -> Bool {
            isV6 == v6 && h & maskHigh == high & maskHigh && l & maskLow == low & maskLow
        }
    }

    private let allowed: [Block]
    /// The addresses the reflector's socket answers from: its own, or with a wildcard listen every
    /// address of this host (loopback included).
    private let own: [Block]
    private let ownPort: UInt16

    init(allowlist: [CIDR], listen: Endpoint, localAddresses: [IPAddress]) {
        allowed = allowlist.map(Block.init)
        ownPort = listen.port
        let wildcard = listen.address.bytes.allSatisfy { $0 == 0 }
        let hosts = wildcard ? localAddresses + CIDR.loopback.map(\.network) : [listen.address]
        var own = hosts.compactMap { CIDR("\($0)/\($0.isIPv6 ? 128 : 32)") }.map(Block.init)
        if wildcard { own += CIDR.loopback.map(Block.init) }
        self.own = own
    }

    @inline(__always)
    func judge(_ address: UnsafePointer<sockaddr_storage>) -> Verdict {
        let raw = UnsafeRawPointer(address)
        let family = Int32(raw.load(as: sa_family_t.self))
        let port = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        let v6 = family == AF_INET6
        var high: UInt64 = 0
        var low: UInt64
        if v6 {
            high = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            low = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        } else if family == AF_INET {
            low = UInt64(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        } else {
            return .outsideAllowlist
        }
        if port == ownPort && own.contains(where: { $0.contains(v6: v6, high, low) }) { return .ownSocket }
        return allowed.contains(where: { $0.contains(v6: v6, high, low) }) ? .allowed : .outsideAllowlist
    }

    /// Every address configured on this host's interfaces (getifaddrs), for a wildcard listen.
    static func hostAddresses() -> [IPAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var out: [IPAddress] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            if let sa = entry.pointee.ifa_addr {
                let raw = UnsafeRawPointer(sa)
                switch Int32(sa.pointee.sa_family) {
                case AF_INET: out += IPAddress(bytes: Array(UnsafeRawBufferPointer(start: raw + 4, count: 4))).map { [$0] } ?? []
                case AF_INET6: out += IPAddress(bytes: Array(UnsafeRawBufferPointer(start: raw + 8, count: 16))).map { [$0] } ?? []
                default: break
                }
            }
            cursor = entry.pointee.ifa_next
        }
        return out
    }
}

import Glibc
import VolleyModel

/// A datagram's source (address and port) as a small hashable value, read from the `sockaddr_storage`
/// a receive filled in: the part of every per-peer table's key that says who sent it.
struct SourceAddress: Hashable {
    var high: UInt64
    var low: UInt64
    var port: UInt16
    var family: UInt16

    /// The source of datagrams read without one (`SenderTable`): family 0, written `unknown`.
    static let unknown = SourceAddress(high: 0, low: 0, port: 0, family: 0)

    private init(high: UInt64, low: UInt64, port: UInt16, family: UInt16) {
        (self.high, self.low, self.port, self.family) = (high, low, port, family)
    }

    @inline(__always)
    init(_ address: UnsafePointer<sockaddr_storage>) {
        let raw = UnsafeRawPointer(address)
        let family = raw.load(as: sa_family_t.self)
        self.family = UInt16(family)
        port = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        if Int32(family) == AF_INET6 {
            high = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            low = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        } else {
            high = 0
            low = UInt64(raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        }
    }

    /// `192.0.2.1:53` or `[2001:db8::1]:53`, for results.
    var description: String {
        guard family != 0 else { return "unknown" }
        var bytes: [UInt8] = []
        if Int32(family) == AF_INET6 {
            withUnsafeBytes(of: high) { bytes += $0 }
            withUnsafeBytes(of: low) { bytes += $0 }
        } else {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: low)) { bytes += $0 }
        }
        guard let address = IPAddress(bytes: bytes) else { return "?" }
        return Endpoint(address: address, port: port).description
    }
}

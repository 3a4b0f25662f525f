import Foundation
import Glibc
import VolleyModel

/// Who holds a UDP port, read from `/proc/net/udp` and `/proc/net/udp6`: used after a multi-thread
/// sink or reflect binds its SO_REUSEPORT group, to make sure no other process's socket is in it.
enum PortOwners {
    /// Inodes of the sockets bound to `endpoint`'s port on an overlapping address (the same address,
    /// or a wildcard on either side) in its family; nil when the table cannot be read.
    static func inodes(holding endpoint: Endpoint) -> Set<UInt64>? {
        let v6 = endpoint.address.isIPv6
        guard let text = try? String(contentsOfFile: v6 ? "/proc/net/udp6" : "/proc/net/udp", encoding: .utf8) else {
            return nil
        }
        var found: Set<UInt64> = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9 else { continue }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, let port = UInt16(local[1], radix: 16), port == endpoint.port,
                  let address = decode(local[0]), let inode = UInt64(fields[9]) else { continue }
            let wildcard = { (bytes: [UInt8]) in bytes.allSatisfy { $0 == 0 } }
            if address == endpoint.address.bytes || wildcard(address) || wildcard(endpoint.address.bytes) {
                found.insert(inode)
            }
        }
        return found
    }

    /// The kernel prints each 32-bit word of the address as a host-order (little-endian) hex number.
    private static func decode(_ hex: Substring) -> [UInt8]? {
        guard hex.count == 8 || hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 8)
            guard let word = UInt32(hex[index..<next], radix: 16) else { return nil }
            withUnsafeBytes(of: word.littleEndian) { bytes += $0 }
            index = next
        }
        return bytes
    }

    /// A socket's inode number, as `/proc/net/udp` lists it.
    static func inode(of socket: UDPSocket) -> UInt64? {
        var info = stat()
        guard fstat(socket.fd, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }
}

import Foundation
import Glibc
import VolleyModel

/// Who holds a UDP port, read from `/proc/net/udp` and `/proc/net/udp6`: used after a multi-thread
/// sink or reflect binds its SO_REUSEPORT group, to make sure no other process's socket is in it.
enum PortOwners {
    /// Inodes of the sockets bound to `endpoint`'s port on an overlapping address (the same address,
    /// or a wildcard on either side) in its family. Throws when the table cannot be read: without it
    /// the port's exclusivity cannot be shown, so the caller refuses rather than assume.
    static func inodes(holding endpoint: Endpoint) throws(SocketError) -> Set<UInt64> {
        let v6 = endpoint.address.isIPv6
        let table = v6 ? "/proc/net/udp6" : "/proc/net/udp"
        let text = try read(table)
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

    /// A /proc file read to its end (its size reads as 0, so no single read can be sized for it).
    private static func read(_ path: String) throws(SocketError) -> String {
        let fd = try syscall("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = try syscall("read \(path)") { Glibc.read(fd, &chunk, chunk.count) }
            if n == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes += chunk.prefix(n)
        }
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

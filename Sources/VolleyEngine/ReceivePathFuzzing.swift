import Glibc

/// The receive path fed from a fuzzer's bytes instead of a socket (`make fuzz`, target `stamp`).
///
/// The input is a sequence of datagrams, each framed as
///
///     1 byte   source: bit 7 picks IPv6 ::1 (else 127.0.0.1), bits 0–6 the port 40000 + n
///     2 bytes  length, big-endian
///     length   payload bytes (fewer if the input ends first: a truncated last datagram)
///
/// Each payload is copied into a heap buffer of exactly its length, so a sanitizer sees any read
/// past the end, and handed to the same parsers the sink and echo workers use.
package enum ReceivePathFuzzing {
    package static func run(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset + 3 <= bytes.count {
            let source = bytes[offset]
            let declared = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            let length = min(declared, bytes.count - offset - 3)
            let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 8)
            defer { payload.deallocate() }
            payload.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[(offset + 3)..<(offset + 3 + length)]))
            var address = Self.address(source)
            // An empty datagram has no buffer; a pointer nothing may read through stands in for it.
            let base = UnsafeRawPointer(payload.baseAddress) ?? UnsafeRawPointer(bitPattern: 8)!
            receive(base, length: length, from: &address)
            offset += 3 + length
        }
    }

    /// One datagram, as a worker would handle it after recvmmsg.
    private static func receive(_ payload: UnsafeRawPointer, length: Int, from address: inout sockaddr_storage) {
        if let stamp = Stamp.read(payload, length: length) {
            _ = stamp  // nothing to check on its own: any 32 bytes after the magic are a stamp
        }
        // MARK: sequence window / sender table (to be added after the receive-path rewrite)
        // Feed the same datagram to the sink's per-sender accounting, e.g.
        //     table.record(payload, length: length, from: &address)
        // with one `SenderTable` (and its `SequenceWindow`s) kept across the datagrams of one `run`.
    }

    /// A loopback source address chosen by one byte of the input.
    private static func address(_ selector: UInt8) -> sockaddr_storage {
        var storage = sockaddr_storage()
        let port = UInt16(40_000 + Int(selector & 0x7f)).bigEndian
        withUnsafeMutableBytes(of: &storage) { raw in
            if selector & 0x80 != 0 {
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                sin6.sin6_port = port
                sin6.sin6_addr = in6addr_loopback
                raw.storeBytes(of: sin6, as: sockaddr_in6.self)
            } else {
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = port
                sin.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
                raw.storeBytes(of: sin, as: sockaddr_in.self)
            }
        }
        return storage
    }
}

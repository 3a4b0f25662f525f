import CBatchIO
import Glibc

/// The memory one worker hands to sendmmsg/recvmmsg: `capacity` message headers, each with one iovec
/// over its own slot of a single buffer, plus a source-address slot for receiving. Allocated once
/// before the loop; the loop only rewrites lengths.
final class MessageBatch {
    let capacity: Int
    let slotBytes: Int
    let headers: UnsafeMutablePointer<CBatchIO_mmsghdr>
    private let iovecs: UnsafeMutablePointer<iovec>
    let buffer: UnsafeMutableRawPointer
    private let addresses: UnsafeMutablePointer<sockaddr_storage>?

    /// - Parameter withAddresses: give each message a `sockaddr_storage` for the sender's address.
    init(capacity: Int, slotBytes: Int, withAddresses: Bool) {
        self.capacity = capacity
        self.slotBytes = slotBytes
        headers = .allocate(capacity: capacity)
        iovecs = .allocate(capacity: capacity)
        buffer = .allocate(byteCount: max(1, capacity * slotBytes), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, capacity * slotBytes))
        addresses = withAddresses ? .allocate(capacity: capacity) : nil
        for i in 0..<capacity {
            iovecs[i] = iovec(iov_base: buffer + i * slotBytes, iov_len: slotBytes)
            var header = CBatchIO_mmsghdr()
            header.msg_hdr.msg_iov = iovecs + i
            header.msg_hdr.msg_iovlen = 1
            if let addresses {
                (addresses + i).initialize(to: sockaddr_storage())
                header.msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + i)
                header.msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            }
            headers[i] = header
        }
    }

    deinit {
        headers.deallocate()
        iovecs.deallocate()
        buffer.deallocate()
        addresses?.deallocate()
    }

    /// Restores the fields the kernel overwrites on receive, for the first `count` messages.
    @inline(__always)
    func resetForReceive(count: Int) {
        for i in 0..<count {
            headers[i].msg_hdr.msg_namelen = addresses == nil ? 0 : socklen_t(MemoryLayout<sockaddr_storage>.size)
            headers[i].msg_hdr.msg_flags = 0
            headers[i].msg_len = 0
        }
    }

    /// Fills every slot with a repeating byte pattern, so payloads are not all zeros on the wire.
    func fillPattern() {
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        for i in 0..<(capacity * slotBytes) { bytes[i] = UInt8(truncatingIfNeeded: i % slotBytes) }
    }
}

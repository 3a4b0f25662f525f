import CBatchIO
import Glibc

/// The memory one worker hands to sendmmsg/recvmmsg: `capacity` message headers, each with one iovec
/// over its own slot of a single buffer, optionally a source-address slot and a control (cmsg) slot.
/// Allocated once before the loop; the loop only rewrites lengths.
final class MessageBatch {
    let capacity: Int
    let slotBytes: Int
    let headers: UnsafeMutablePointer<CBatchIO_mmsghdr>
    let iovecs: UnsafeMutablePointer<iovec>
    let buffer: UnsafeMutableRawPointer
    private let addresses: UnsafeMutablePointer<sockaddr_storage>?
    /// Per-message control space (`controlBytes` each), for UDP_SEGMENT or UDP_GRO.
    let control: UnsafeMutableRawPointer?
    let controlBytes: Int
    /// Whether receives ask for each datagram's source (always, when the batch has address slots,
    /// until `readAddresses(false)`).
    private(set) var readsAddresses: Bool

    init(capacity: Int, slotBytes: Int, withAddresses: Bool, controlBytes: Int = 0) {
        self.capacity = capacity
        self.slotBytes = slotBytes
        self.controlBytes = controlBytes
        headers = .allocate(capacity: capacity)
        iovecs = .allocate(capacity: capacity)
        buffer = .allocate(byteCount: max(1, capacity * slotBytes), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, capacity * slotBytes))
        addresses = withAddresses ? .allocate(capacity: capacity) : nil
        readsAddresses = withAddresses
        control = controlBytes > 0 ? .allocate(byteCount: capacity * controlBytes, alignment: 16) : nil
        control?.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * controlBytes)
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
        control?.deallocate()
    }

    /// Bytes a batch of this shape allocates: slots, headers, iovecs, addresses and control space.
    static func bytes(capacity: Int, slotBytes: Int, withAddresses: Bool, controlBytes: Int = 0) -> Int {
        let perMessage = slotBytes + MemoryLayout<CBatchIO_mmsghdr>.stride + MemoryLayout<iovec>.stride
            + (withAddresses ? MemoryLayout<sockaddr_storage>.stride : 0) + controlBytes
        return capacity * perMessage
    }

    var allocatedBytes: Int {
        Self.bytes(capacity: capacity, slotBytes: slotBytes, withAddresses: addresses != nil, controlBytes: controlBytes)
    }

    @inline(__always) func slot(_ i: Int) -> UnsafeMutableRawPointer { buffer + i * slotBytes }

    /// Message `i`'s source slot; nil when the batch has none or is not reading them.
    @inline(__always) func address(_ i: Int) -> UnsafeMutablePointer<sockaddr_storage>? {
        readsAddresses ? addresses.map { $0 + i } : nil
    }

    /// Starts or stops asking the kernel for each datagram's source (a batch with address slots only):
    /// the kernel copies a `sockaddr` out per datagram when asked, about 7 % more kernel samples for
    /// a C sink here (Benchmarks/README.md, "A sink's sources").
    func readAddresses(_ on: Bool) {
        guard let addresses, on != readsAddresses else { return }
        readsAddresses = on
        for i in 0..<capacity {
            headers[i].msg_hdr.msg_name = on ? UnsafeMutableRawPointer(addresses + i) : nil
            headers[i].msg_hdr.msg_namelen = on ? socklen_t(MemoryLayout<sockaddr_storage>.size) : 0
        }
    }

    /// Points the first `count` headers back at their own slots, after a caller moved headers around
    /// (a reflector sends its answered messages from the front of the batch).
    @inline(__always)
    func restorePointers(count: Int) {
        for i in 0..<count {
            headers[i].msg_hdr.msg_iov = iovecs + i
            headers[i].msg_hdr.msg_name = readsAddresses ? addresses.map { UnsafeMutableRawPointer($0 + i) } : nil
        }
    }

    /// Restores the fields the kernel overwrites on receive, for the first `count` messages.
    @inline(__always)
    func resetForReceive(count: Int) {
        for i in 0..<count {
            headers[i].msg_hdr.msg_namelen = readsAddresses ? socklen_t(MemoryLayout<sockaddr_storage>.size) : 0
            headers[i].msg_hdr.msg_flags = 0
            iovecs[i].iov_len = slotBytes
            if let control {
                headers[i].msg_hdr.msg_control = control + i * controlBytes
                headers[i].msg_hdr.msg_controllen = controlBytes
            }
            headers[i].msg_len = 0
        }
    }

    /// Fills every slot with a repeating byte pattern, so payloads are not all zeros on the wire.
    func fillPattern() {
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        for i in 0..<(capacity * slotBytes) { bytes[i] = UInt8(truncatingIfNeeded: i % max(1, slotBytes)) }
    }
}

import CBatchIO
import Glibc

/// One reflecting thread (mode `reflect`): receives a batch, then sends every datagram back to its
/// source from the same buffers (recvmmsg → sendmmsg, nothing copied). With GRO, a coalesced
/// receive goes back as one UDP_SEGMENT send of the same segment size, so the wire sees the
/// original datagrams.
final class ReflectWorker: @unchecked Sendable {
    private let socket: UDPSocket
    private let batch: MessageBatch
    private let gro: Bool
    /// Per message: UDP_SEGMENT control for sending a coalesced receive back.
    private let sendControl: UnsafeMutableRawPointer?
    private let sendControlBytes: Int
    private let segmentsOf: UnsafeMutablePointer<Int>
    let received = DirectionCounters()
    let sent = DirectionCounters()
    private(set) var io: BatchIO
    private(set) var timeline: WorkerTimeline?
    private let totalSeconds: Double

    init(socket: UDPSocket, batch: Int, gro: Bool, totalSeconds: Double, options: EngineOptions) {
        self.socket = socket
        self.gro = gro
        self.totalSeconds = totalSeconds
        // Keep the buffers ≤ 16 MiB per thread while fitting ordinary datagrams whole.
        let slot = gro ? 65_536 : min(65_536, max(2_048, (16 << 20) / batch))
        self.batch = MessageBatch(capacity: batch, slotBytes: slot, withAddresses: true,
                                  controlBytes: gro ? CBatchIO_gro_control_size() : 0)
        sendControlBytes = CBatchIO_segment_control_size()
        sendControl = gro ? .allocate(byteCount: batch * sendControlBytes, alignment: 16) : nil
        segmentsOf = .allocate(capacity: batch)
        io = BatchIO(method: options.ioMethod)
    }

    deinit {
        sendControl?.deallocate()
        segmentsOf.deallocate()
    }

    func run(startNanos: UInt64, deadline: UInt64, stop: StopSignal, budget: ReceiveBudget?) {
        let timeline = WorkerTimeline(totalSeconds: totalSeconds, startNanos: startNanos)
        self.timeline = timeline
        while !stop.isSet && MonotonicClock.now() < deadline {
            batch.resetForReceive(count: batch.capacity)
            let outcome = io.receive(fd: socket.fd, batch.headers, count: batch.capacity)
            if outcome.count == 0 {
                if outcome.errno == EAGAIN { continue }
                received.syscalls.wrappingAdd(1, ordering: .relaxed)
                received.countError(ErrorCategory(errno: outcome.errno))
                MonotonicClock.sleep(nanoseconds: 200_000)
                continue
            }
            received.syscalls.wrappingAdd(UInt64(outcome.syscalls), ordering: .relaxed)
            var datagrams = 0
            var bytes = 0
            for i in 0..<outcome.count { (datagrams, bytes) = prepareReply(i, datagrams, bytes) }
            received.add(packets: datagrams, bytes: bytes)
            let now = MonotonicClock.now()
            timeline.addReceived(datagrams, at: now)
            let back = sendAll(outcome.count, deadline: deadline, stop: stop)
            timeline.addSent(back, at: now)
            if let budget, budget.record(datagrams) { stop.set() }
        }
    }

    /// Points message `i`'s iovec at exactly what arrived and, for a coalesced receive, sets UDP_SEGMENT.
    @inline(__always)
    private func prepareReply(_ i: Int, _ datagrams: Int, _ bytes: Int) -> (Int, Int) {
        let length = Int(batch.headers[i].msg_len)
        let kept = min(length, batch.slotBytes)
        if length > batch.slotBytes { received.countError(.other) }  // truncated: reflected cut short
        batch.iovecs[i].iov_len = kept
        var segments = 1
        if gro, let sendControl {
            let segment = Int(CBatchIO_gro_segment_size(&batch.headers[i].msg_hdr))
            if segment > 0 && kept > segment {
                segments = (kept + segment - 1) / segment
                CBatchIO_put_segment_size(&batch.headers[i].msg_hdr, sendControl + i * sendControlBytes, UInt16(segment))
            } else {
                batch.headers[i].msg_hdr.msg_control = nil
                batch.headers[i].msg_hdr.msg_controllen = 0
            }
        }
        segmentsOf[i] = segments
        return (datagrams + segments, bytes + length)
    }

    private func sendAll(_ count: Int, deadline: UInt64, stop: StopSignal) -> Int {
        var offset = 0
        var datagrams = 0
        while offset < count {
            let outcome = io.send(fd: socket.fd, batch.headers + offset, count: count - offset)
            sent.syscalls.wrappingAdd(UInt64(outcome.syscalls), ordering: .relaxed)
            if outcome.count > 0 {
                var d = 0
                var b = 0
                for m in offset..<(offset + outcome.count) {
                    d += segmentsOf[m]
                    b += batch.iovecs[m].iov_len
                }
                sent.add(packets: d, bytes: b)
                datagrams += d
                offset += outcome.count
                if offset < count { sent.partialBatches.wrappingAdd(1, ordering: .relaxed) }
                continue
            }
            let category = ErrorCategory(errno: outcome.errno)
            sent.countError(category)
            if stop.isSet || MonotonicClock.now() >= deadline { break }
            // A source that went away (ECONNREFUSED cannot happen unconnected, but EPERM etc. can):
            // skip that datagram rather than retry it forever.
            if category != .wouldBlock && category != .noBuffers {
                offset += 1
                continue
            }
            MonotonicClock.sleep(nanoseconds: 200_000)
        }
        return datagrams
    }
}

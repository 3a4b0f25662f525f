import CBatchIO
import Glibc
import VolleyModel

/// One reflecting thread (mode `reflect`): receives a batch, then sends the datagrams it may answer
/// back to their sources from the same buffers (recvmmsg → sendmmsg, nothing copied). It answers
/// only Volley requests (stamped, reply flag clear), from allowlisted sources other than itself, at
/// most at its reply cap; it sets the reply flag on what it sends, so reflectors cannot loop. With
/// GRO, a coalesced receive goes back as one UDP_SEGMENT send of the same segment size.
/// Receiving and sending follow `ReceivePolicy` and `SendPolicy`: a reply the kernel will not take
/// for a persistent reason is skipped and counted, buffer pressure is retried after a back-off.
final class ReflectWorker: @unchecked Sendable, OutgoingMessages {
    private let socket: UDPSocket
    private let batch: MessageBatch
    private let gro: Bool
    /// Per message: UDP_SEGMENT control for sending a coalesced receive back.
    private let sendControl: UnsafeMutableRawPointer?
    private let sendControlBytes: Int
    private let segmentsOf: UnsafeMutablePointer<Int>
    private let filter: PeerFilter
    private var limiter: ReplyLimiter
    let received: DirectionCounters
    let sent: DirectionCounters
    private(set) var refused = ReflectTotals()
    private var receiver: BatchReceiver
    private var sender: BatchSender
    var io: BatchIO { receiver.io }
    private(set) var timeline: WorkerTimeline?
    private let totalSeconds: Double
    /// `busy_poll_us` in ns: how long each wait polls without sleeping before it blocks (0: never).
    private let busyPollNanos: UInt64

    /// Builds the worker and its buffers; called on the worker's own thread when the job starts.
    init(socket: UDPSocket, batch: Int, gro: Bool, totalSeconds: Double, filter: PeerFilter, replyCapPPS: Int,
         received: DirectionCounters, sent: DirectionCounters, options: EngineOptions, busyPollMicros: Int = 0) {
        self.socket = socket
        busyPollNanos = UInt64(max(0, busyPollMicros)) * 1000
        self.gro = gro
        self.totalSeconds = totalSeconds
        self.filter = filter
        self.received = received
        self.sent = sent
        limiter = ReplyLimiter(perSecond: replyCapPPS, batch: batch, now: MonotonicClock.now())
        self.batch = MessageBatch(capacity: batch, slotBytes: Self.slotBytes(batch: batch, gro: gro), withAddresses: true,
                                  controlBytes: SinkWorker.controlBytes(gro: gro))
        sendControlBytes = CBatchIO_segment_control_size()
        sendControl = gro ? .allocate(byteCount: batch * sendControlBytes, alignment: 16) : nil
        segmentsOf = .allocate(capacity: batch)
        receiver = BatchReceiver(method: options.ioMethod, sockets: 1, capacity: batch)
        sender = BatchSender(method: options.ioMethod, perCallLimit: batch, fault: options.sendFault)
    }

    deinit {
        sendControl?.deallocate()
        segmentsOf.deallocate()
    }

    /// Keeps the buffers ≤ 16 MiB per thread while fitting ordinary datagrams whole.
    static func slotBytes(batch: Int, gro: Bool) -> Int { gro ? 65_536 : min(65_536, max(2_048, (16 << 20) / batch)) }

    /// Bytes of its batch, reply controls and per-message counts.
    var allocatedBytes: Int {
        batch.allocatedBytes + (gro ? batch.capacity * sendControlBytes : 0) + batch.capacity * MemoryLayout<Int>.stride
    }

    func run(startNanos: UInt64, deadline: UInt64, stop: StopSignal, budget: ReceiveBudget?) {
        let timeline = WorkerTimeline(totalSeconds: totalSeconds, startNanos: startNanos)
        self.timeline = timeline
        // The loop's changing state lives in locals and goes back to the worker when the run ends
        // (read only then). Changed in place as stored properties of this class, each access took a
        // dynamic exclusivity check (swift_beginAccess/endAccess, ~115 instructions a pair, four
        // pairs a reply), on the path between a request and its reply (Benchmarks/README.md,
        // "Instructions inside a round trip").
        var receiver = self.receiver, sender = self.sender, limiter = self.limiter, refused = self.refused
        defer { (self.receiver, self.sender, self.limiter, self.refused) = (receiver, sender, limiter, refused) }
        while !stop.isSet && MonotonicClock.now() < deadline {
            let count = receiver.receive(0, fd: socket.fd, into: batch, counters: received, spinNanos: busyPollNanos)
            guard count > 0 else { continue }
            let now = receiver.returnedAt
            var datagrams = 0
            var bytes = 0
            var answer = 0
            for i in 0..<count {
                let (segments, step, length) = prepareReply(i)
                datagrams &+= segments
                bytes &+= length
                if admit(i, segments: segments, step: step, now: now, limiter: &limiter, refused: &refused) {
                    // Compact: the headers to send sit at the front (restorePointers undoes it).
                    if answer != i { batch.headers[answer] = batch.headers[i] }
                    segmentsOf[answer] = segments
                    answer += 1
                }
            }
            received.add(packets: datagrams, bytes: bytes)
            timeline.addReceived(datagrams, at: now)
            let back = answer > 0
                ? sender.send(self, headers: batch.headers, count: answer, fd: socket.fd, counters: sent,
                              deadline: deadline, stop: stop).datagrams
                : 0
            if answer < count { batch.restorePointers(count: answer) }  // compacted: undo it
            timeline.addSent(back, at: now)
            if let budget, budget.record(datagrams) { stop.set() }
        }
        receiver.settleDrops(0, fd: socket.fd, counters: received)
    }

    /// Points message `i`'s iovec at exactly what arrived and, for a coalesced receive, sets UDP_SEGMENT.
    /// Returns the datagrams it stands for, the size of each (the last may be shorter) and its length.
    @inline(__always)
    private func prepareReply(_ i: Int) -> (segments: Int, step: Int, length: Int) {
        let length = Int(batch.headers[i].msg_len)
        let kept = min(length, batch.slotBytes)
        if length > batch.slotBytes { received.countError(.other) }  // truncated: reflected cut short
        batch.iovecs[i].iov_len = kept
        var segments = 1
        var step = max(kept, 1)
        // What the kernel wrote into the control space (drop count, GRO size) must not go back out:
        // a received cmsg handed to sendmsg is refused with EINVAL.
        let segment = gro ? Int(CBatchIO_gro_segment_size(&batch.headers[i].msg_hdr)) : 0
        if segment > 0 && kept > segment, let sendControl {
            segments = (kept + segment - 1) / segment
            step = segment
            CBatchIO_put_segment_size(&batch.headers[i].msg_hdr, sendControl + i * sendControlBytes, UInt16(segment))
        } else {
            batch.headers[i].msg_hdr.msg_control = nil
            batch.headers[i].msg_hdr.msg_controllen = 0
        }
        return (segments, step, length)
    }

    /// Whether message `i` is answered: an allowed source, every datagram in it a Volley request,
    /// and credit under the reply cap. Sets the reply flag on each datagram it admits; counts the rest.
    @inline(__always)
    private func admit(_ i: Int, segments: Int, step: Int, now: UInt64,
                       limiter: inout ReplyLimiter, refused: inout ReflectTotals) -> Bool {
        switch filter.judge(UnsafePointer(batch.address(i)!)) {
        case .allowed: break
        case .outsideAllowlist, .ownSocket:
            refused.refusedSources &+= UInt64(segments)
            return false
        }
        let slot = batch.slot(i)
        let kept = batch.iovecs[i].iov_len
        var offset = 0
        repeat {
            switch Stamp.kind(slot + offset, length: min(step, kept - offset)) {
            case .request: break
            case .unstamped:
                refused.refusedUnstamped &+= UInt64(segments)
                return false
            case .reply:
                refused.refusedReplies &+= UInt64(segments)
                return false
            }
            offset += step
        } while offset < kept
        guard limiter.take(segments, now: now) else {
            refused.rateLimited &+= UInt64(segments)
            return false
        }
        offset = 0
        while offset < kept {
            Stamp.markReply(slot + offset)
            offset += step
        }
        return true
    }

    // OutgoingMessages: the answered messages at the front of the batch. Replies carry the
    // requester's stamp unchanged, so there is nothing to re-stamp on a retry.

    @inline(__always) func datagrams(_ m: Int) -> Int { segmentsOf[m] }
    @inline(__always) func bytes(_ m: Int) -> Int { batch.headers[m].msg_hdr.msg_iov.pointee.iov_len }
    @inline(__always) func sent(_ m: Int) {}
    @inline(__always) func restamp(from m: Int, count: Int, now: UInt64) {}
}

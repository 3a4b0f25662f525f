import CBatchIO
import Glibc
import VolleyModel

/// One STAMP Session-Reflector thread (mode `reflect`, `"protocol": "stamp"`): receives a batch of
/// Session-Sender packets and answers them from the same buffers per RFC 8762 §4.3 and RFC 8972 —
/// T2 from the kernel's receive timestamp (the clock's when there is none), the sender's fields and
/// TTL copied, TLVs answered, T3 written just before the send call (and again before a retry).
/// The peer rules are those of Volley's own reflector: only allowlisted sources other than itself,
/// at most the reply cap, never a datagram that already is a reflector's packet. Stateless by
/// default; stateful keeps a reply counter per session in bounded state (`StampSessions`).
final class StampReflectWorker: @unchecked Sendable, OutgoingMessages {
    private let socket: UDPSocket
    private let batch: MessageBatch
    private let filter: PeerFilter
    private var limiter: ReplyLimiter
    let received: DirectionCounters
    let sent: DirectionCounters
    private(set) var refused = ReflectTotals()
    private(set) var stamp: StampReflectTotals
    private var sessions: StampSessions?
    private var receiver: BatchReceiver
    private var sender: BatchSender
    var io: BatchIO { receiver.io }
    private(set) var timeline: WorkerTimeline?
    private let totalSeconds: Double
    private let busyPollNanos: UInt64
    private let clock: StampClock

    /// Builds the worker and its buffers; called on the worker's own thread when the job starts.
    init(socket: UDPSocket, spec: JobSpec, filter: PeerFilter, replyCapPPS: Int, received: DirectionCounters,
         sent: DirectionCounters, options: EngineOptions) {
        self.socket = socket
        self.filter = filter
        self.received = received
        self.sent = sent
        totalSeconds = spec.totalSeconds
        busyPollNanos = UInt64(max(0, spec.busyPollMicroseconds)) * 1000
        clock = StampClock(format: spec.timestampFormat)
        stamp = StampReflectTotals(stateful: spec.stateful, timestampFormat: spec.timestampFormat,
                                   clockSynchronized: clock.synchronized)
        sessions = spec.stateful ? StampSessions() : nil
        if let sessions {
            stamp.sessionLimit = sessions.limit
        }
        limiter = ReplyLimiter(perSecond: replyCapPPS, batch: spec.batch, now: MonotonicClock.now())
        batch = MessageBatch(capacity: spec.batch, slotBytes: ReflectWorker.slotBytes(batch: spec.batch, gro: false),
                             withAddresses: true, controlBytes: Self.controlBytes)
        receiver = BatchReceiver(method: options.ioMethod, sockets: 1, capacity: spec.batch)
        sender = BatchSender(method: options.ioMethod, perCallLimit: spec.batch, fault: options.sendFault)
    }

    /// The drop count, the kernel's receive timestamp and the TTL of every datagram.
    static var controlBytes: Int {
        CBatchIO_rxq_control_size() + CBatchIO_timestamping_control_size() + CBatchIO_ttl_control_size()
    }

    var allocatedBytes: Int {
        batch.allocatedBytes + (sessions.map { StampSessions.bytes(limit: $0.limit) } ?? 0)
    }

    func run(startNanos: UInt64, deadline: UInt64, stop: StopSignal, budget: ReceiveBudget?) {
        let timeline = WorkerTimeline(totalSeconds: totalSeconds, startNanos: startNanos)
        self.timeline = timeline
        while !stop.isSet && MonotonicClock.now() < deadline {
            let count = receiver.receive(0, fd: socket.fd, into: batch, counters: received, spinNanos: busyPollNanos)
            guard count > 0 else { continue }
            let now = receiver.returnedAt
            let readAt = CBatchIO_realtime_ns()
            var bytes = 0
            var answer = 0
            for i in 0..<count {
                let length = Int(batch.headers[i].msg_len)
                bytes &+= length
                if prepareReply(i, length: length, now: now, readAt: readAt) {
                    if answer != i { batch.headers[answer] = batch.headers[i] }
                    answer += 1
                }
            }
            received.add(packets: count, bytes: bytes)
            timeline.addReceived(count, at: now)
            var back = 0
            if answer > 0 {
                restamp(from: 0, count: answer, now: now)
                back = sender.send(self, headers: batch.headers, count: answer, fd: socket.fd, counters: sent,
                                   deadline: deadline, stop: stop).datagrams
            }
            if answer < count { batch.restorePointers(count: answer) }
            timeline.addSent(back, at: now)
            if let budget, budget.record(count) { stop.set() }
        }
        receiver.settleDrops(0, fd: socket.fd, counters: received)
        if let sessions {
            stamp.sessions = sessions.count
            stamp.sessionsEvicted = sessions.evicted
        }
    }

    /// Whether datagram `i` is answered; if so, turns it into the reply (all but T3) and points its
    /// header at exactly the reply's bytes with no control data.
    @inline(__always)
    private func prepareReply(_ i: Int, length: Int, now: UInt64, readAt: Int64) -> Bool {
        guard length <= batch.slotBytes else {
            received.countError(.other)  // truncated: a reply would not be the packet that came
            refused.refusedUnstamped &+= 1
            return false
        }
        switch filter.judge(UnsafePointer(batch.address(i)!)) {
        case .allowed: break
        case .outsideAllowlist, .ownSocket:
            refused.refusedSources &+= 1
            return false
        }
        let slot = batch.slot(i)
        switch StampPacket.kind(slot, length: length) {
        case .request: break
        case .tooShort:
            refused.refusedUnstamped &+= 1
            return false
        case .reflectorPacket:
            refused.refusedReplies &+= 1
            return false
        }
        guard limiter.take(1, now: now) else {
            refused.rateLimited &+= 1
            return false
        }
        var sequence = StampPacket.senderSequence(slot)
        if sessions != nil {
            guard let next = sessions!.next(from: UnsafePointer(batch.address(i)!), ssid: StampPacket.ssid(slot), now: now) else {
                refused.refusedSessions &+= 1
                return false
            }
            sequence = next
        }
        let kernel = CBatchIO_rx_timestamp_ns(&batch.headers[i].msg_hdr)
        if kernel >= 0 { stamp.kernelReceiveTimestamps &+= 1 } else { stamp.appReceiveTimestamps &+= 1 }
        let t2 = StampClock.encode(unixNanos: kernel >= 0 ? kernel : readAt, ptp: clock.format == .ptp, taiSeconds: clock.taiSeconds)
        let ttl = CBatchIO_received_ttl(&batch.headers[i].msg_hdr)
        let tlvs = StampPacket.buildReply(slot, length: length, sequence: sequence, errorEstimate: clock.errorEstimate,
                                          t2: t2, ttl: UInt8(truncatingIfNeeded: max(0, ttl)))
        stamp.tlvsUnrecognized &+= UInt64(tlvs.unrecognized)
        stamp.tlvsMalformed &+= UInt64(tlvs.malformed)
        batch.iovecs[i].iov_len = length
        // What the kernel wrote into the control space must not go back out (sendmsg refuses it).
        batch.headers[i].msg_hdr.msg_control = nil
        batch.headers[i].msg_hdr.msg_controllen = 0
        return true
    }

    // OutgoingMessages: the answered messages at the front of the batch.

    @inline(__always) func datagrams(_ m: Int) -> Int { 1 }
    @inline(__always) func bytes(_ m: Int) -> Int { batch.headers[m].msg_hdr.msg_iov.pointee.iov_len }
    @inline(__always) func sent(_ m: Int) {}

    /// T3, as late as possible: just before the send call, and again before a retry.
    @inline(__always)
    func restamp(from m: Int, count: Int, now: UInt64) {
        let t3 = StampClock.encode(unixNanos: CBatchIO_realtime_ns(), ptp: clock.format == .ptp, taiSeconds: clock.taiSeconds)
        for message in m..<count {
            guard let base = batch.headers[message].msg_hdr.msg_iov.pointee.iov_base else { continue }
            StampPacket.writeT3(base, t3)
        }
    }
}

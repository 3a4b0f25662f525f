import CBatchIO
import Glibc
import VolleyModel

/// The receiving half of an echo worker: reads replies on the worker's flow sockets, matches each to
/// the datagram it answers by its stamp, and keeps exact loss, duplicate, order and RTT accounting.
/// Replies are peer input: a reply counts as received or late at most once per sequence number sent,
/// so no sequence of datagrams (replays, forgeries) can make the counts disagree or trap.
final class EchoReceiver {
    private let fds: [Int32]
    private let tag: UInt32
    private let firstFlow: UInt32
    private let timeoutNanos: UInt64
    /// `busy_poll_us` in ns: how long each wait reads without sleeping before it blocks (0: never).
    private let busyPollNanos: UInt64
    /// The job's start: a reply stamped before it (or after now) cannot answer this job.
    private let startNanos: UInt64
    private let batch: MessageBatch
    private var windows: [SequenceWindow]
    /// Per flow: datagrams sent so far (the next sequence number); set by the sending side.
    var sentPerFlow: [UInt64]
    private(set) var totals = EchoTotals()
    private(set) var latency: LatencyRecorder
    private var overhead: AppOverhead?
    /// STAMP jobs: replies are Session-Reflector packets, matched by SSID and the sender fields.
    private(set) var stamp: StampEchoState?
    private var receiver: BatchReceiver
    /// One pollfd per flow socket, prepared once: ppoll takes any number of them.
    private let pollSet: UnsafeMutablePointer<pollfd>
    /// With one flow socket: the timer that ends a blocking receive at the wait's deadline, so a
    /// reply costs one system call and one wake-up (nil with several flows: they need ppoll).
    private let wake: WakeTimer?
    /// How far past a wait's requested end an already-armed deadline may lie and still be used.
    static let preparedSlackNanos: UInt64 = 2_000
    let counters: DirectionCounters
    let timeline: WorkerTimeline

    init(fds: [Int32], tag: UInt32, firstFlow: UInt32, spec: JobSpec, slotBytes: Int, collector: LatencyCollector,
         overhead: LatencyCollector?, counters: DirectionCounters, timeline: WorkerTimeline, startNanos: UInt64,
         options: EngineOptions, stamp: StampEchoSetup? = nil) {
        self.fds = fds
        self.startNanos = startNanos
        self.tag = tag
        self.firstFlow = firstFlow
        timeoutNanos = UInt64(spec.echoTimeoutMilliseconds) * 1_000_000
        busyPollNanos = UInt64(max(0, spec.busyPollMicroseconds)) * 1000
        self.stamp = stamp.map { StampEchoState(setup: $0, flows: fds.count) }
        batch = MessageBatch(capacity: spec.batch, slotBytes: max(slotBytes, Stamp.size, StampPacket.baseBytes), withAddresses: false,
                             controlBytes: Self.controlBytes(spec))
        self.overhead = overhead.map(AppOverhead.init(collector:))
        windows = Array(repeating: SequenceWindow(), count: fds.count)
        sentPerFlow = Array(repeating: 0, count: fds.count)
        latency = LatencyRecorder(collector: collector)
        receiver = BatchReceiver(method: options.ioMethod, sockets: fds.count, capacity: spec.batch)
        pollSet = .allocate(capacity: fds.count)
        for (i, fd) in fds.enumerated() { pollSet[i] = pollfd(fd: fd, events: Int16(POLLIN), revents: 0) }
        wake = fds.count == 1 && options.echoWakeTimer ? WakeTimer() : nil
        self.counters = counters
        self.timeline = timeline
    }

    deinit { pollSet.deallocate() }

    /// The drop count on every reply, and with kernel timestamps the receive timestamp.
    static func controlBytes(_ spec: JobSpec) -> Int {
        CBatchIO_rxq_control_size() + (spec.timestamps == .kernel ? CBatchIO_timestamping_control_size() : 0)
    }

    /// Bytes of its receive batch and sequence windows.
    var allocatedBytes: Int {
        batch.allocatedBytes + windows.count * (SequenceWindow.defaultBytes + MemoryLayout<pollfd>.stride)
    }

    /// Replies still awaited (never negative: each sent sequence number is answered at most once).
    var outstanding: UInt64 {
        let answered = totals.received &+ totals.late
        return totals.sent > answered ? totals.sent - answered : 0
    }

    func noteSent(_ count: Int) { totals.sent &+= UInt64(count) }

    /// Reads everything already queued on the flow sockets, without blocking. With one flow that
    /// is one receive call; with several, one ppoll finds the sockets that have anything, rather
    /// than a receive call per flow after every send batch.
    @inline(__always)
    func drain() {
        if fds.count == 1 {
            drain(0)
            return
        }
        guard CBatchIO_wait_readable(pollSet, UInt32(fds.count), 0) > 0 else { return }
        drainReady()
    }

    /// Reads the sockets the last ppoll marked readable.
    private func drainReady() {
        for flow in 0..<fds.count where pollSet[flow].revents != 0 { drain(flow) }
    }

    /// Reads flow `flow`'s socket until its queue is empty.
    @inline(__always)
    private func drain(_ flow: Int) {
        while true {
            let count = receiver.receive(flow, fd: fds[flow], into: batch, counters: counters, flags: CBatchIO_MSG_DONTWAIT)
            guard count > 0 else { break }
            process(count, now: receiver.returnedAt, flowHint: flow)
            if count < batch.capacity { break }
        }
    }

    /// Reads at most one datagram on the one flow socket, without blocking: while spinning for a reply,
    /// recvmsg for one costs less than a batch read, whose recvmmsg tries a second, empty slot after
    /// the reply (`busy_poll_us` 1000, same CPU: p50 11.46 → 11.12 µs). True when one came.
    @inline(__always)
    private func pollOne() -> Bool {
        let count = receiver.receive(0, fd: fds[0], into: batch, counters: counters, flags: CBatchIO_MSG_DONTWAIT, limit: 1)
        guard count > 0 else { return false }
        process(count, now: receiver.returnedAt, flowHint: 0)
        return true
    }

    /// Arms the wake-up for the wait that follows the next send, before that send is stamped. Arming
    /// is a system call that reprograms a timer through the hypervisor (7–21 µs, median 13, on these
    /// VMs, traced in Benchmarks/README.md), and armed after the send it lay between a request and
    /// its reply.
    /// A wait that `busy_poll_us` spins from end to end needs no timer, and gets none: a signal at
    /// its end would land on the next request's path, between its stamp and its reply (same CPU,
    /// `busy_poll_us` 1000 at 1000/s: p50 12.6 µs with the timer, 11.7 µs without).
    @inline(__always)
    func prepareWait(until deadline: UInt64, now: UInt64) {
        guard let wake else { return }
        if busyPollNanos > 0 && deadline &- now <= busyPollNanos {
            wake.disarm()
            return
        }
        _ = wake.arm(at: deadline)  // nothing to do when that deadline is armed already
    }

    /// Right after a send whose wait `prepareWait` armed for `end`: one blocking receive, which the
    /// reply ends (or the timer, at `end`), with nothing between the send and it but the send's own
    /// counting. Before, the pacer's arithmetic for the wait (three pacer calls, about 7 of the 12
    /// rate-schedule reads a round trip makes, ~500 instructions all 12 by callgrind) ran there,
    /// inside the round trip it measured (Benchmarks/README.md, "Instructions inside a round trip").
    /// Returns whether it waited in the receive; false (nothing done) when the wait is not armed for
    /// `end` (several flows, a spin, a refused timer) or `end` has passed, and the caller's wait does
    /// everything as before.
    @inline(__always)
    func awaitReply(until end: UInt64) -> Bool {
        guard busyPollNanos == 0, let wake, wake.armedFor == end, MonotonicClock.now() < end else { return false }
        let count = receiver.receive(0, fd: fds[0], into: batch, counters: counters)
        if count > 0 { process(count, now: receiver.returnedAt, flowHint: 0) }
        return true
    }

    /// Waits for replies (waking as soon as one arrives) until `deadline`, reading them as they come.
    /// A deadline already armed by `prepareWait` that falls before it, or at most
    /// `preparedSlackNanos` after it (the pacer's estimate, made twice, may differ by rounding), ends
    /// the wait instead, so no timer is armed between a send and its reply; waking early is harmless,
    /// every caller asks again. Returns whether it waited in a blocking call (a receive or a ppoll
    /// with a timeout, which sleeps unless something is already queued), rather than only spinning.
    @discardableResult
    func waitAndDrain(until requested: UInt64) -> Bool {
        var now = MonotonicClock.now()
        var deadline = requested
        if let armed = wake?.armedFor, armed > now, armed <= requested &+ Self.preparedSlackNanos { deadline = armed }
        // Spin first: a reply due within microseconds is read without a sleep and a wake-up.
        let spinEnd = min(deadline, now &+ busyPollNanos)
        while now < spinEnd {
            if fds.count > 1 {
                drain()
            } else if pollOne() {
                drain(0)  // anything queued behind it, in a batch
            }
            sched_yield()  // lets a reflector on this CPU answer; a no-op when nothing else waits for it
            now = MonotonicClock.now()
        }
        if now < deadline, let wake, wake.arm(at: deadline) {
            // One flow: block in the receive itself; the timer's signal ends it at the deadline.
            while now < deadline {
                let count = receiver.receive(0, fd: fds[0], into: batch, counters: counters)
                now = count > 0 ? receiver.returnedAt : MonotonicClock.now()
                if count > 0 { process(count, now: now, flowHint: 0) }
            }
            return true
        }
        var slept = false
        while now < deadline {
            let ready = CBatchIO_wait_readable(pollSet, UInt32(fds.count), Int64(deadline - now))
            slept = true
            if ready > 0 { drainReady() }
            now = MonotonicClock.now()
            if ready == 0 { break }
        }
        return slept
    }

    /// After the last send: waits up to the echo timeout for stragglers, less if none are missing.
    func finish(lastSend: UInt64, stop: StopSignal) {
        let end = lastSend + timeoutNanos
        while outstanding > 0 && !stop.isSet && MonotonicClock.now() < end {
            waitAndDrain(until: min(end, MonotonicClock.now() + 20_000_000))
        }
        wake?.close()
        drain()
        for (flow, fd) in fds.enumerated() { receiver.settleDrops(flow, fd: fd, counters: counters) }
        latency.finish(lastSecond: timeline.second(MonotonicClock.now()))
        stamp?.finish(lastSecond: timeline.second(MonotonicClock.now()), sentPerFlow: sentPerFlow)
        overhead?.finish(lastSecond: timeline.second(MonotonicClock.now()))
        totals.lost = totals.sent > totals.received ? totals.sent - totals.received : 0
    }

    @inline(__always)
    private func process(_ count: Int, now: UInt64, flowHint: Int) {
        var bytes = 0
        let second = timeline.second(now)
        overhead?.beginBatch()
        if stamp != nil {
            processStamp(count, now: now, second: second, flow: flowHint)
            return
        }
        for i in 0..<count {
            let length = Int(batch.headers[i].msg_len)
            bytes &+= length
            // Only a reply to a datagram this worker sent, stamped between the job's start and now,
            // can be ours; the flow check subtracts only after comparing, so it cannot wrap.
            guard let stamp = Stamp.read(batch.slot(i), length: min(length, batch.slotBytes)), stamp.tag == tag,
                  stamp.flow >= firstFlow, stamp.flow - firstFlow < UInt32(fds.count),
                  stamp.sequence < sentPerFlow[Int(stamp.flow - firstFlow)],
                  stamp.sentNanos >= startNanos, stamp.sentNanos <= now else {
                totals.foreign &+= 1
                continue
            }
            let flow = Int(stamp.flow - firstFlow)
            switch windows[flow].mark(stamp.sequence) {
            case .duplicate:
                totals.duplicates &+= 1
            case .tooOld:
                totals.tooOld &+= 1
            case let outcome:
                let rtt = now - stamp.sentNanos
                if rtt > timeoutNanos {
                    totals.late &+= 1
                } else {
                    totals.received &+= 1
                    if outcome == .reordered { totals.reordered &+= 1 }
                    latency.record(micros: rtt / 1000, second: second)
                    overhead?.record(&batch.headers[i].msg_hdr, handledAt: now, second: second)
                    timeline.addAnswered(sentAt: stamp.sentNanos)
                    timeline.addReceived(1, at: now)
                }
            }
        }
        counters.add(packets: count, bytes: bytes)
    }

    /// STAMP replies on `flow`'s socket (connected to the target, so only its datagrams arrive):
    /// the same exact accounting as Volley's own, keyed by the sender fields the reflector copied.
    private func processStamp(_ count: Int, now: UInt64, second: Int, flow: Int) {
        var bytes = 0
        for i in 0..<count {
            let length = Int(batch.headers[i].msg_len)
            bytes &+= length
            // Ours only: this job's SSID, a sequence number this flow sent, and a T1 between the
            // job's start and now on this side's clock.
            guard let reply = StampPacket.readReply(batch.slot(i), length: min(length, batch.slotBytes)),
                  reply.ssid == stamp!.setup.ssid,
                  let sequence = StampEchoState.extend(reply.senderSequence, sentSoFar: sentPerFlow[flow]),
                  let sentNanos = stamp!.setup.clock.monotonic(reply.t1), sentNanos >= startNanos, sentNanos <= now else {
                totals.foreign &+= 1
                continue
            }
            switch windows[flow].mark(sequence) {
            case .duplicate:
                totals.duplicates &+= 1
            case .tooOld:
                totals.tooOld &+= 1
            case let outcome:
                stamp!.answered(reply, sequence: sequence, flow: flow)
                if now - sentNanos > timeoutNanos {
                    totals.late &+= 1
                } else {
                    totals.received &+= 1
                    if outcome == .reordered { totals.reordered &+= 1 }
                    let rtt = stamp!.measure(reply, sentNanos: sentNanos, now: now, second: second)
                    latency.record(micros: rtt / 1000, second: second)
                    overhead?.record(&batch.headers[i].msg_hdr, handledAt: now, second: second)
                    timeline.addAnswered(sentAt: sentNanos)
                    timeline.addReceived(1, at: now)
                }
            }
        }
        counters.add(packets: count, bytes: bytes)
    }
}

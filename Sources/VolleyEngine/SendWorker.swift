import CBatchIO
import Glibc
import VolleyModel

/// One sending thread (modes `send` and `echo`): its flow sockets, a prepared batch, a pacer, its
/// counters and timeline, and for echo the receiving half. After `run()` starts, only this thread
/// touches any of it, and the loop allocates nothing. Failed sends follow `SendPolicy` (in
/// `BatchSender`); this type only prepares messages and re-stamps them when the loop asks.
final class SendWorker: @unchecked Sendable, OutgoingMessages {
    private let flows: [UDPSocket]
    private let firstFlow: UInt32
    private let tag: UInt32
    private var plan: PayloadPlan
    private let batch: MessageBatch
    /// Datagrams per message: 1, or up to 64 with GSO.
    private let segments: Int
    private let messageDatagrams: UnsafeMutablePointer<Int>
    private let messageBytes: UnsafeMutablePointer<Int>
    /// Stamped datagrams per message: only they use up sequence numbers.
    private let messageStamped: UnsafeMutablePointer<Int>
    private let limit: UInt64?
    private let schedule: RateSchedule
    private let batchSize: Int
    let counters: DirectionCounters
    let receivedCounters: DirectionCounters
    private var sender: BatchSender
    var io: BatchIO { sender.io }
    private(set) var timeline: WorkerTimeline?
    private(set) var echo: EchoReceiver?
    private let spec: JobSpec
    private let options: EngineOptions
    private let collector: LatencyCollector?
    private let overhead: LatencyCollector?
    /// STAMP jobs: Session-Sender packets instead of Volley's stamp.
    private let stampSetup: StampEchoSetup?
    /// Echo with `warm_up`: the loopback warm-up before a request that follows a sleep.
    private(set) var warmUp: KernelWarmUp?
    /// Echo with `warm_up`: why the warm-up socket could not be made (the job runs without it).
    private(set) var warmUpSetupError: SocketError?
    /// Send: how much of each wait for the next batch is spent spinning on the clock rather than
    /// asleep: the last 60 µs (a timer's lateness), or the job's `busy_poll_us` when longer, so a wait
    /// no longer than that never sleeps. A thread that never sleeps keeps its CPU from going idle,
    /// and a kernel thread woken meanwhile is placed on an idle CPU rather than in front of it
    /// (Benchmarks/README.md, "A spinning pacer").
    private let waitSpinNanos: UInt64

    /// Builds the worker and its buffers; called on the worker's own thread when the job starts.
    init(flows: [UDPSocket], thread: Int, tag: UInt32, spec: JobSpec, limit: UInt64?, collector: LatencyCollector?,
         overhead: LatencyCollector? = nil, counters: DirectionCounters, receivedCounters: DirectionCounters,
         options: EngineOptions, stamp: StampEchoSetup? = nil) {
        stampSetup = stamp
        self.flows = flows
        self.counters = counters
        self.receivedCounters = receivedCounters
        self.spec = spec
        self.options = options
        self.collector = collector
        self.overhead = overhead
        self.tag = tag
        self.limit = limit
        firstFlow = UInt32(thread * spec.flows)
        waitSpinNanos = max(MonotonicClock.defaultSpinNanos, UInt64(max(0, spec.busyPollMicroseconds)) &* 1000)
        plan = PayloadPlan(spec: spec, thread: thread)
        schedule = RateSchedule(spec: spec, share: 1 / Double(spec.threads))
        let shape = Self.shape(spec, slotBytes: plan.slotBytes)
        segments = shape.segments
        batchSize = shape.messages * shape.segments
        let messages = shape.messages
        batch = MessageBatch(capacity: messages, slotBytes: shape.messageBytes, withAddresses: false,
                             controlBytes: spec.gso ? CBatchIO_segment_control_size() : 0)
        batch.fillPattern()
        if let fixed = plan.fixed {
            for i in 0..<(messages * segments) {
                (batch.buffer + i * plan.slotBytes).copyMemory(from: fixed, byteCount: fixed.count)
            }
        }
        if stamp != nil {
            for i in 0..<(messages * segments) { StampPacket.prepareSender(batch.buffer + i * plan.slotBytes, bytes: plan.slotBytes) }
        }
        if spec.gso, let control = batch.control {
            for i in 0..<messages {
                CBatchIO_put_segment_size(&batch.headers[i].msg_hdr, control + i * batch.controlBytes, UInt16(plan.slotBytes))
            }
        }
        messageDatagrams = .allocate(capacity: messages)
        messageBytes = .allocate(capacity: messages)
        messageStamped = .allocate(capacity: messages)
        sequences = [UInt64](repeating: 0, count: flows.count)
        sender = BatchSender(method: options.ioMethod, perCallLimit: min(messages, options.maxMessagesPerCall ?? messages),
                             fault: options.sendFault)
    }

    /// Datagrams per message, messages per batch and bytes per message for a spec: what `init`
    /// allocates, and what the admission budget counts. Without GSO a message is one datagram and
    /// `batch` counts both. With GSO, `batch` counts messages, as the C reference's `--batch` does:
    /// each holds up to 64 segments (and at most 65,000 bytes), so one sendmmsg moves `batch` of them
    /// — one message per call would leave most of GSO's gain on the table.
    static func shape(_ spec: JobSpec, slotBytes: Int) -> (segments: Int, messages: Int, messageBytes: Int) {
        let segments = spec.gso ? max(1, min(64, 65_000 / max(1, slotBytes))) : 1
        return (segments, spec.batch, slotBytes * segments)
    }

    /// Bytes this worker allocated for its batches (and, for echo, its receiving half).
    var allocatedBytes: Int {
        batch.allocatedBytes + batch.capacity * 3 * MemoryLayout<Int>.stride + (echo?.allocatedBytes ?? 0)
    }

    deinit {
        messageDatagrams.deallocate()
        messageBytes.deallocate()
        messageStamped.deallocate()
    }

    /// Sends until `deadline` (monotonic ns), the packet limit, or `stop`; for echo, then waits for replies.
    func run(startNanos: UInt64, deadline: UInt64, stop: StopSignal) {
        CBatchIO_set_timer_slack(1)
        let timeline = WorkerTimeline(totalSeconds: spec.totalSeconds, startNanos: startNanos)
        self.timeline = timeline
        if spec.mode == .echo, let collector {
            echo = EchoReceiver(fds: flows.map(\.fd), tag: tag, firstFlow: firstFlow, spec: spec, slotBytes: plan.slotBytes,
                                collector: collector, overhead: overhead, counters: receivedCounters, timeline: timeline,
                                startNanos: startNanos, options: options, stamp: stampSetup)
            if spec.warmUp {
                do throws(SocketError) {
                    warmUp = try KernelWarmUp(family: spec.target?.family ?? AF_INET)
                } catch {
                    warmUpSetupError = error
                }
            }
        }
        let pacer = Pacer(schedule: schedule, batch: batchSize, startNanos: startNanos, gapNanos: Pacer.gapNanos(for: spec.mode))
        var sent: UInt64 = 0
        var flow = 0
        var now = startNanos
        let cap = limit ?? .max
        // Whether the thread waited in a blocking call since its last send (echo: the next send warms up).
        var slept = false
        while !stop.isSet && now < deadline && sent < cap {
            var want = pacer.allowance(sent: sent, now: now)
            if want == 0 {
                let until = Self.waitEnd(pacer, sent: sent, now: now)
                if let echo { slept = echo.waitAndDrain(until: until) || slept } else { MonotonicClock.wait(until: until, spinNanos: waitSpinNanos) }
                now = MonotonicClock.now()
                continue
            }
            want = Int(min(UInt64(want), cap - sent))
            // A paced echo arms the wait that follows this send now, before the stamps are taken:
            // the same end as the wait above will compute after the send.
            var replyWaitEnd: UInt64 = 0
            if let echo, !schedule.isUnlimited {
                let end = Self.waitEnd(pacer, sent: sent &+ UInt64(want), now: now)
                if end > now {
                    echo.prepareWait(until: end, now: now)
                    replyWaitEnd = end
                }
            }
            // After the last call that may exit to the hypervisor (arming above), before the stamps
            // (which `sendBatch` takes from the clock itself).
            if slept, let warmUp { warmUp.run() }
            slept = false
            let done = sendBatch(want, flow: flow, deadline: deadline, stop: stop)
            // The reply is waited for at once; the bookkeeping below comes after it.
            if replyWaitEnd != 0, let echo, echo.awaitReply(until: replyWaitEnd) { slept = true }
            sent &+= UInt64(done.sent + done.skipped)
            timeline.addSent(done.sent, at: now)
            flow = flow + 1 == flows.count ? 0 : flow + 1
            now = MonotonicClock.now()
            // Replies are read while waiting for the next send; only a sender that will not wait
            // (unpaced, or behind) reads them here. A read after every send found nothing at paced
            // rates and cost a syscall per round trip (Benchmarks/README.md, echo's microseconds).
            if let echo, pacer.allowance(sent: sent, now: now) > 0 { echo.drain() }
        }
        // Paced up to the deadline: what fell due before it but was not sent yet (a part batch still
        // waiting for its gap, or a thread that woke late on a busy machine) goes now, so a job sends
        // exactly what its rate and duration say. At most 100 ms of sending from here (counted from
        // when the thread got to it, so a late wake-up does not eat the window): a thread starved for
        // seconds does not turn into a job that runs on at full speed for seconds.
        let catchUpEnd = now &+ 100_000_000
        let due = min(pacer.dueBefore(deadline), cap)
        while !stop.isSet && now >= deadline && sent < due && now < catchUpEnd {
            let done = sendBatch(Int(min(due - sent, UInt64(batchSize))), flow: flow, deadline: catchUpEnd, stop: stop)
            sent &+= UInt64(done.sent + done.skipped)
            timeline.addSent(done.sent, at: now)
            if done.sent + done.skipped == 0 { break }
            flow = flow + 1 == flows.count ? 0 : flow + 1
            now = MonotonicClock.now()
        }
        echo?.finish(lastSend: now, stop: stop)
    }

    /// When a wait for the next send ends (monotonic ns): when the pacer says the next batch is
    /// due, at most 5 ms on, so the loop sees a stop or the deadline in time.
    @inline(__always)
    private static func waitEnd(_ pacer: Pacer, sent: UInt64, now: UInt64) -> UInt64 {
        now &+ min(pacer.waitNanos(sent: sent, now: now), 5_000_000)
    }

    /// Prepares `count` datagrams on `flow` (sizes, stamps, GSO grouping) and sends them all.
    /// Returns how many datagrams went out and how many were skipped (both count against the pacer
    /// and the packet limit); the stamped ones that went out use up sequence numbers, which are
    /// contiguous per flow: datagrams that were skipped or not sent leave no gap (`restamp`).
    private func sendBatch(_ count: Int, flow: Int, deadline: UInt64, stop: StopSignal) -> (sent: Int, skipped: Int) {
        let size = plan.slotBytes
        currentFlow = flow
        nextSequence = echo?.sentPerFlow[flow] ?? sequences[flow]
        var messages = 0
        var placed = 0
        while placed < count {
            let inMessage = min(segments, count - placed)
            let bytes = segments == 1 ? plan.nextSize() : inMessage * size
            batch.iovecs[messages].iov_len = bytes
            messageDatagrams[messages] = inMessage
            messageBytes[messages] = bytes
            placed += inMessage
            messages += 1
        }
        // The stamps' time is read after the messages are laid out, as close to the send as it gets:
        // for an echo, the time between this read and the system call is part of the round trip.
        restamp(from: 0, count: messages, now: MonotonicClock.now())
        let tally = sender.send(self, headers: batch.headers, count: messages, fd: flows[flow].fd,
                                counters: counters, deadline: deadline, stop: stop)
        if let echo {
            echo.sentPerFlow[flow] = nextSequence  // echo stamps every datagram
            echo.noteSent(tally.datagrams)
        } else {
            sequences[flow] = nextSequence
        }
        return (tally.datagrams, tally.skipped)
    }

    /// Per flow, the next sequence number (send mode; echo keeps its own). A stored property, not a
    /// lazy one: mutating a lazy array copies it on every write, an allocation per batch.
    private var sequences: [UInt64]
    /// During one `sendBatch`: its flow, and the sequence number the next stamped datagram gets.
    private var currentFlow = 0
    private var nextSequence: UInt64 = 0

    // OutgoingMessages: what `BatchSender` asks of the prepared messages.

    @inline(__always) func datagrams(_ m: Int) -> Int { messageDatagrams[m] }
    @inline(__always) func bytes(_ m: Int) -> Int { messageBytes[m] }
    @inline(__always) func sent(_ m: Int) { nextSequence &+= UInt64(messageStamped[m]) }

    /// Stamps messages `m..<count` with `now` and consecutive sequence numbers from the next unused
    /// one: at first, and again before a retry (so RTT excludes our back-off) or after a skip.
    @inline(__always)
    func restamp(from m: Int, count: Int, now: UInt64) {
        let size = plan.slotBytes
        var sequence = nextSequence
        let flowID = firstFlow + UInt32(currentFlow)
        let t1 = stampSetup?.clock.encode(monotonic: now) ?? 0
        for message in m..<count {
            var stamped = 0
            let inMessage = messageDatagrams[message]
            for s in 0..<inMessage {
                let length = segments == 1 ? batch.iovecs[message].iov_len : size
                guard plan.stamps(length) else { continue }
                let slot = batch.slot(message) + s * size
                if let stampSetup {
                    StampPacket.writeSender(slot, sequence: UInt32(truncatingIfNeeded: sequence), timestamp: t1,
                                            errorEstimate: stampSetup.clock.errorEstimate, ssid: stampSetup.ssid)
                    if !plan.isUniform { StampPacket.writePadding(slot, bytes: length) }
                } else {
                    Stamp.write(slot, tag: tag, flow: flowID, sequence: sequence, sentNanos: now)
                }
                sequence &+= 1
                stamped += 1
            }
            messageStamped[message] = stamped
        }
    }
}

import CBatchIO
import Glibc
import VolleyModel

/// One sending thread (modes `send` and `echo`): its flow sockets, a prepared batch, a pacer, its
/// counters and timeline, and for echo the receiving half. After `run()` starts, only this thread
/// touches any of it, and the loop allocates nothing.
final class SendWorker: @unchecked Sendable {
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
    private let perCallLimit: Int
    let counters: DirectionCounters
    let receivedCounters: DirectionCounters
    private(set) var io: BatchIO
    private(set) var timeline: WorkerTimeline?
    private(set) var echo: EchoReceiver?
    private let spec: JobSpec
    private let options: EngineOptions
    private let collector: LatencyCollector?

    /// Builds the worker and its buffers; called on the worker's own thread when the job starts.
    init(flows: [UDPSocket], thread: Int, tag: UInt32, spec: JobSpec, limit: UInt64?, collector: LatencyCollector?,
         counters: DirectionCounters, receivedCounters: DirectionCounters, options: EngineOptions) {
        self.flows = flows
        self.counters = counters
        self.receivedCounters = receivedCounters
        self.spec = spec
        self.options = options
        self.collector = collector
        self.tag = tag
        self.limit = limit
        firstFlow = UInt32(thread * spec.flows)
        plan = PayloadPlan(spec: spec, thread: thread)
        schedule = RateSchedule(spec: spec, share: 1 / Double(spec.threads))
        batchSize = spec.batch
        let shape = Self.shape(spec, slotBytes: plan.slotBytes)
        segments = shape.segments
        let messages = shape.messages
        batch = MessageBatch(capacity: messages, slotBytes: shape.messageBytes, withAddresses: false,
                             controlBytes: spec.gso ? CBatchIO_segment_control_size() : 0)
        batch.fillPattern()
        if let fixed = plan.fixed {
            for i in 0..<(messages * segments) {
                (batch.buffer + i * plan.slotBytes).copyMemory(from: fixed, byteCount: fixed.count)
            }
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
        perCallLimit = min(messages, options.maxMessagesPerCall ?? messages)
        io = BatchIO(method: options.ioMethod)
    }

    /// Datagrams per message, messages per batch and bytes per message for a spec: what `init`
    /// allocates, and what the admission budget counts.
    static func shape(_ spec: JobSpec, slotBytes: Int) -> (segments: Int, messages: Int, messageBytes: Int) {
        let segments = spec.gso ? max(1, min(64, spec.batch, 65_000 / max(1, slotBytes))) : 1
        return (segments, (spec.batch + segments - 1) / segments, slotBytes * segments)
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
                                collector: collector, counters: receivedCounters, timeline: timeline,
                                startNanos: startNanos, options: options)
        }
        let pacer = Pacer(schedule: schedule, batch: batchSize, startNanos: startNanos)
        var sent: UInt64 = 0
        var flow = 0
        var now = startNanos
        let cap = limit ?? .max
        while !stop.isSet && now < deadline && sent < cap {
            var want = pacer.allowance(sent: sent, now: now)
            if want == 0 {
                let until = now + min(pacer.waitNanos(sent: sent, now: now), 5_000_000)
                if let echo { echo.waitAndDrain(until: until) } else { MonotonicClock.wait(until: until) }
                now = MonotonicClock.now()
                continue
            }
            want = Int(min(UInt64(want), cap - sent))
            let done = sendBatch(want, flow: flow, now: now, deadline: deadline, stop: stop)
            sent &+= UInt64(done)
            timeline.addSent(done, at: now)
            echo?.drain()
            flow = flow + 1 == flows.count ? 0 : flow + 1
            now = MonotonicClock.now()
        }
        echo?.finish(lastSend: now, stop: stop)
    }

    /// Prepares `count` datagrams on `flow` (sizes, stamps, GSO grouping) and sends them all.
    /// Returns how many datagrams went out; the stamped ones among them use up sequence numbers, and
    /// those of datagrams that did not go out are used again by the next batch.
    private func sendBatch(_ count: Int, flow: Int, now: UInt64, deadline: UInt64, stop: StopSignal) -> Int {
        let size = plan.slotBytes
        let firstSeq = echo?.sentPerFlow[flow] ?? sequences[flow]
        var messages = 0
        var placed = 0
        var stamped = 0
        while placed < count {
            let inMessage = min(segments, count - placed)
            var bytes = 0
            var stampedHere = 0
            for s in 0..<inMessage {
                let length = segments == 1 ? plan.nextSize() : size
                let slot = batch.slot(messages) + s * size
                if plan.stamps(length) {
                    Stamp.write(slot, tag: tag, flow: firstFlow + UInt32(flow),
                                sequence: firstSeq + UInt64(stamped + stampedHere), sentNanos: now)
                    stampedHere += 1
                }
                bytes += length
            }
            batch.iovecs[messages].iov_len = bytes
            messageDatagrams[messages] = inMessage
            messageBytes[messages] = bytes
            messageStamped[messages] = stampedHere
            stamped += stampedHere
            placed += inMessage
            messages += 1
        }
        let sentMessages = sendAll(messages, fd: flows[flow].fd, deadline: deadline, stop: stop)
        var datagrams = 0
        var sequenced = 0
        for m in 0..<sentMessages {
            datagrams += messageDatagrams[m]
            sequenced += messageStamped[m]
        }
        if let echo {
            echo.sentPerFlow[flow] &+= UInt64(sequenced)  // echo stamps every datagram
            echo.noteSent(datagrams)
        } else {
            sequences[flow] += UInt64(sequenced)
        }
        return datagrams
    }

    /// Per flow, the next sequence number (send mode; echo keeps its own). A stored property, not a
    /// lazy one: mutating a lazy array copies it on every write, an allocation per batch.
    private var sequences: [UInt64]

    /// Sends `count` prepared messages, continuing after short counts until all are out (or time is up).
    /// Returns how many messages went out.
    private func sendAll(_ count: Int, fd: Int32, deadline: UInt64, stop: StopSignal) -> Int {
        var offset = 0
        while offset < count {
            let ask = min(count - offset, perCallLimit)
            let outcome = io.send(fd: fd, batch.headers + offset, count: ask)
            counters.syscalls.wrappingAdd(UInt64(outcome.syscalls), ordering: .relaxed)
            if outcome.count > 0 {
                var datagrams = 0
                var bytes = 0
                for m in offset..<(offset + outcome.count) {
                    datagrams += messageDatagrams[m]
                    bytes += messageBytes[m]
                }
                counters.add(packets: datagrams, bytes: bytes)
                offset += outcome.count
                if offset < count { counters.partialBatches.wrappingAdd(1, ordering: .relaxed) }
                continue
            }
            let category = ErrorCategory(errno: outcome.errno)
            counters.countError(category)
            if stop.isSet || MonotonicClock.now() >= deadline { break }
            // ECONNREFUSED only reports an earlier ICMP error: the next call goes out at once.
            // Everything else is resource pressure or a persistent fault: pause briefly, then retry.
            if category != .connectionRefused { MonotonicClock.sleep(nanoseconds: 200_000) }
        }
        return offset
    }
}

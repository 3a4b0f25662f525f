import CBatchIO
import Dispatch
import Foundation
import Synchronization
import VolleyModel

/// One job's traffic: sockets opened and bound/connected in `init` (so address problems surface
/// before the job starts), one OS thread per worker once started, which builds its own buffers, live
/// progress while running, and a report when the last worker exits. Nothing the size of a batch is
/// allocated before `start()`.
public final class JobRun: Sendable {
    public let spec: JobSpec
    /// Random per job; stamped into every datagram so replies and sinks can tell jobs apart.
    public let tag: UInt32
    private let slots: [WorkerSlot]
    private let options: EngineOptions
    private let latency: LatencyCollector?
    /// `"timestamps": "kernel"`: the app-overhead histograms of all receiving workers.
    private let overhead: LatencyCollector?
    /// STAMP echo jobs: the clock, SSID and histograms every worker shares.
    private let stamp: StampEchoSetup?
    /// Sinks: the flows the whole job may track.
    private let flows: FlowBudget?
    /// `cpu_latency_us`: the PM QoS request, opened at set-up, lowered while the traffic runs.
    private let cpuLatency: CPULatencyRequest?
    /// The system's CPU latency limit read back when the request was lowered (nil: none asked, or not taken).
    private let cpuLatencyHeld = Locked<Int?>(nil)
    private let stopSignal = StopSignal()
    private let timing = Locked<(startNanos: UInt64, stopRequested: Bool)>((0, false))

    public init(spec: JobSpec, options: EngineOptions = EngineOptions()) throws(EngineError) {
        self.spec = spec
        self.options = options
        tag = UInt32.random(in: 1 ... .max)
        cpuLatency = try spec.cpuLatencyMicroseconds.map { (us) throws(EngineError) in
            try CPULatencyRequest(microseconds: us, path: options.cpuLatencyDevice)
        }
        var slots: [WorkerSlot] = []
        latency = spec.mode == .echo ? LatencyCollector(workers: spec.threads) : nil
        overhead = spec.timestamps == .kernel ? LatencyCollector(workers: spec.threads) : nil
        flows = spec.mode == .sink ? FlowBudget() : nil
        stamp = spec.mode == .echo && spec.echoProtocol == .stamp
            ? StampEchoSetup(spec: spec, workers: spec.threads, sharedClock: spec.target.map(Self.isThisHost) ?? false)
            : nil
        switch spec.mode {
        case .send, .echo:
            guard let target = spec.target else { preconditionFailure("validated spec has a target") }
            for thread in 0..<spec.threads {
                var sockets: [UDPSocket] = []
                for _ in 0..<spec.flows { sockets.append(try SocketSetup.sender(to: target, spec: spec, options: options)) }
                slots.append(WorkerSlot(index: thread, sockets: sockets))
            }
        case .sink, .reflect:
            guard let listen = spec.listen else { preconditionFailure("validated spec has a listen address") }
            let sockets = try SocketSetup.receivers(at: listen, count: spec.threads, spec: spec, options: options)
            slots = sockets.enumerated().map { WorkerSlot(index: $0.offset, sockets: [$0.element]) }
        }
        self.slots = slots
    }

    /// Checks that the job's address can be used now (bound or connected, then closed at once), for
    /// a job that will open its sockets only when it starts.
    public static func probe(_ spec: JobSpec, options: EngineOptions = EngineOptions()) throws(EngineError) {
        if spec.cpuLatencyMicroseconds != nil { try CPULatencyRequest.probe(path: options.cpuLatencyDevice) }
        try SocketSetup.probe(spec, options: options)
    }

    /// Checks what the path to the target decides without sending: a `gso` job's payload against
    /// the path MTU (a socket connected and closed at once). For validation without a job.
    public static func checkPath(_ spec: JobSpec) throws(EngineError) {
        try SocketSetup.checkPath(spec)
    }

    /// Bytes the workers allocated for their buffers and windows (0 before they start).
    public var allocatedBytes: Int {
        slots.reduce(0) { $0 + $1.allocatedBytes }
            + slots.compactMap(\.sink).reduce(0) { $0 + $1.senders.trackedFlows * SequenceWindow.defaultBytes }
    }

    /// The reflect reply cap across all threads: the spec's `rate_pps`, held to the agent's cap.
    var replyCapPPS: Int? {
        let caps = [spec.ratePPS > 0 ? spec.ratePPS : nil, options.maxRatePPS].compactMap { $0 }
        return caps.min()
    }

    /// Splits a total evenly over `count` workers; the first `total % count` get one more.
    static func share(_ total: Int, _ index: Int, _ count: Int) -> Int {
        total / count + (index < total % count ? 1 : 0)
    }

    /// Starts every worker on its own thread; `onFinish` runs once, on the last worker's thread, after it exits.
    public func start(onFinish: @escaping @Sendable (EngineReport) -> Void) {
        let startNanos = MonotonicClock.now()
        let startedAt = Date()
        timing.withLock { $0.startNanos = startNanos }
        let deadline = startNanos + UInt64(spec.durationSeconds * 1e9)
        if let cpuLatency { cpuLatencyHeld.withLock { $0 = cpuLatency.apply() } }
        let budget = spec.maxPackets > 0 ? ReceiveBudget(limit: UInt64(spec.maxPackets)) : nil
        let stop = stopSignal
        // The last worker to exit measures the elapsed time and reports, on its own thread: no queue
        // that a busy process could delay stands between the traffic and its numbers.
        let remaining = Countdown(slots.count)
        let finish: @Sendable () -> Void = {
            guard remaining.tick() else { return }
            let elapsed = Double(MonotonicClock.now() - startNanos) / 1e9
            self.cpuLatency?.release()  // the traffic is over: idle CPUs may halt again
            onFinish(self.report(startedAt: startedAt, elapsed: elapsed))
        }
        let filter = spec.mode == .reflect ? peerFilter() : nil
        // A reflector's waits end on a signal this often instead of on its socket's receive timeout.
        let idleWakeNanos = UInt64(max(1, options.socketTimeoutMilliseconds)) * 1_000_000
        for slot in slots {
            spawn("volley-\(spec.mode.rawValue)-\(slot.index)", finish) { [self] in
                let usageAtStart = ThreadUsage.current()
                defer {
                    if let usageAtStart, let now = ThreadUsage.current() { slot.usage.withLock { $0 = now.since(usageAtStart) } }
                }
                if SchedulerSlice.wanted(spec) {
                    let granted = SchedulerSlice.request()
                    slot.grantedSlice.withLock { $0 = granted }
                }
                switch spec.mode {
                case .send, .echo:
                    let limit = spec.maxPackets == 0 ? nil : UInt64(Self.share(spec.maxPackets, slot.index, spec.threads))
                    let worker = SendWorker(flows: slot.sockets, thread: slot.index, tag: tag, spec: spec, limit: limit,
                                            collector: latency, overhead: overhead, counters: slot.sent,
                                            receivedCounters: slot.received, options: options, stamp: stamp)
                    slot.hold(.send(worker))
                    worker.run(startNanos: startNanos, deadline: deadline, stop: stop)
                case .sink:
                    let worker = SinkWorker(socket: slot.sockets[0], batch: spec.batch, gro: spec.gro,
                                            totalSeconds: spec.totalSeconds, flows: flows!, overhead: overhead,
                                            counters: slot.received, options: options)
                    slot.hold(.sink(worker))
                    worker.run(startNanos: startNanos, deadline: deadline, stop: stop, budget: budget)
                case .reflect where spec.echoProtocol == .stamp:
                    let cap = replyCapPPS.map { max(1, Self.share($0, slot.index, spec.threads)) } ?? 0
                    let worker = StampReflectWorker(socket: slot.sockets[0], spec: spec, filter: filter!, replyCapPPS: cap,
                                                    received: slot.received, sent: slot.sent, options: options)
                    slot.hold(.stampReflect(worker))
                    let wake = Self.idleWake(slot, every: idleWakeNanos)
                    worker.run(startNanos: startNanos, deadline: deadline, stop: stop, budget: budget)
                    wake?.close()
                case .reflect:
                    // Each thread holds its share of the cap (at least 1/s); 0 means no cap.
                    let cap = replyCapPPS.map { max(1, Self.share($0, slot.index, spec.threads)) } ?? 0
                    let worker = ReflectWorker(socket: slot.sockets[0], batch: spec.batch, gro: spec.gro,
                                               totalSeconds: spec.totalSeconds, filter: filter!, replyCapPPS: cap,
                                               received: slot.received, sent: slot.sent, options: options,
                                               busyPollMicros: spec.busyPollMicroseconds)
                    slot.hold(.reflect(worker))
                    let wake = Self.idleWake(slot, every: idleWakeNanos)
                    worker.run(startNanos: startNanos, deadline: deadline, stop: stop, budget: budget)
                    wake?.close()
                }
            }
        }
    }

    /// A reflect thread's periodic wake-up in place of its socket's receive timeout (`WakeTimer.periodic`).
    /// A socket that refuses to drop its timeout keeps it, and the refusal is counted among the job's
    /// receive errors, so the result shows it.
    private static func idleWake(_ slot: WorkerSlot, every period: UInt64) -> WakeTimer? {
        do {
            return try WakeTimer.periodic(every: period, clearingTimeoutOf: slot.sockets[0])
        } catch {
            slot.received.countError(ErrorCategory(errno: error.errno))
            return nil
        }
    }

    /// Whether `target` is this host (loopback, or one of its interfaces' addresses): a STAMP
    /// reflector there reads the same clock as the sender.
    static func isThisHost(_ target: Endpoint) -> Bool {
        CIDR.loopback.contains { $0.contains(target.address) } || PeerFilter.hostAddresses().contains(target.address)
    }

    private func peerFilter() -> PeerFilter {
        let listen = spec.listen!
        let wildcard = listen.address.bytes.allSatisfy { $0 == 0 }
        return PeerFilter(allowlist: options.peerAllowlist, listen: listen,
                          localAddresses: wildcard ? PeerFilter.hostAddresses() : [])
    }

    private func spawn(_ name: String, _ finish: @escaping @Sendable () -> Void, _ body: @escaping @Sendable () -> Void) {
        ThreadLauncher.shared.launch(name) {
            body()
            finish()
        }
    }

    /// Asks every worker to stop; they notice within one socket timeout or pacing wait (≤ 20 ms).
    public func stop() {
        timing.withLock { $0.stopRequested = true }
        stopSignal.set()
    }

    /// Counters so far, read without disturbing the workers.
    public func progress() -> JobProgress {
        let start = timing.withLock { $0.startNanos }
        var progress = JobProgress()
        for (sent, received) in directions {
            progress.packetsSent += sent?.packetCount ?? 0
            progress.bytesSent += sent?.byteCount ?? 0
            progress.packetsReceived += received?.packetCount ?? 0
            progress.bytesReceived += received?.byteCount ?? 0
        }
        progress.elapsedSeconds = start == 0 ? 0 : Double(MonotonicClock.now() - start) / 1e9
        progress.rtt = latency?.latest
        if spec.mode != .send {
            // The sockets' own counters (SO_MEMINFO): one getsockopt each, only when progress is read.
            progress.kernelDrops = slots.reduce(0) { total, slot in
                slot.sockets.reduce(total) { $0 &+ UInt64(max(0, CBatchIO_socket_drops($1.fd))) }
            }
        }
        return progress
    }

    /// Every worker's sending and receiving counters, as its mode uses them.
    private var directions: [(sent: DirectionCounters?, received: DirectionCounters?)] {
        slots.map { slot in
            switch spec.mode {
            case .send: (slot.sent, nil)
            case .echo, .reflect: (slot.sent, slot.received)
            case .sink: (nil, slot.received)
            }
        }
    }

    /// The worker threads' CPU time and context switches, summed; nil if any thread's could not be read.
    private var workerUsage: ThreadUsage? {
        let each = slots.compactMap { $0.usage.withLock { $0 } }
        guard !each.isEmpty, each.count == slots.count else { return nil }
        return each.reduce(ThreadUsage(), +)
    }

    /// The scheduler slice every worker of the job was granted, in µs; nil when none asked for one or
    /// any of them was refused (the result then claims nothing for the job).
    private var grantedSlice: Int? {
        let granted = slots.map { $0.grantedSlice.withLock { $0 } }
        guard let first = granted.first ?? nil, granted.allSatisfy({ $0 == first }) else { return nil }
        return first
    }

    /// The buffer size the kernel granted the job's first socket (all are set up alike), for the
    /// directions the mode uses.
    private func grantedBuffer(receive: Bool) -> Int? {
        let uses = receive ? spec.mode != .send : spec.mode != .sink
        guard uses, let socket = slots.first?.sockets.first else { return nil }
        return socket.grantedBufferBytes(receive: receive)
    }

    private func report(startedAt: Date, elapsed: Double) -> EngineReport {
        var sent = DirectionTotals(partialBatches: 0)
        var received = DirectionTotals()
        for (s, r) in directions {
            if let s { sent.merge(s.totals(withPartialBatches: true)) }
            if let r { received.merge(r.totals(withPartialBatches: false)) }
        }
        let methods = slots.compactMap(\.io)
        let method: IOMethod = methods.contains(.loop) ? .loop : (methods.first ?? .batched)
        var echo: EchoTotals?
        if spec.mode == .echo {
            var totals = EchoTotals()
            for slot in slots { if let e = slot.send?.echo?.totals { totals.merge(e) } }
            echo = totals
        }
        let stampReport = stamp.map { setup in
            setup.report(slots.compactMap { $0.send?.echo?.stamp })
        }
        var sequence: SequenceReport?
        if spec.mode == .sink {
            let tables = slots.compactMap(\.sink).map(\.senders)
            sequence = SequenceReport(senders: tables.flatMap(\.senders), unstamped: tables.reduce(0) { $0 &+ $1.unstamped },
                                      untrackedDatagrams: tables.reduce(0) { $0 &+ $1.untracked }, flowLimit: flows?.limit)
        }
        var reflect: ReflectTotals?
        if spec.mode == .reflect {
            var totals = ReflectTotals()
            for slot in slots {
                if let r = slot.refused { totals.merge(r) }
                if let w = slot.stampReflect {
                    if totals.stamp == nil { totals.stamp = w.stamp } else { totals.stamp!.merge(w.stamp) }
                }
            }
            totals.replyCapPPS = replyCapPPS
            reflect = totals
        }
        var warmUps: UInt64?
        var warmUpError: String?
        if spec.mode == .echo && spec.warmUp {
            let workers = slots.compactMap(\.send)
            warmUps = workers.reduce(0) { $0 &+ ($1.warmUp?.count ?? 0) }
            warmUpError = workers.lazy.compactMap { $0.warmUpSetupError ?? $0.warmUp?.failure }.first?.description
        }
        let timelines = slots.compactMap(\.timeline)
        return EngineReport(startedAt: startedAt, finishedAt: startedAt.addingTimeInterval(elapsed),
                            elapsedSeconds: elapsed, sent: sent, received: received,
                            io: JobResult.IOPath(send: method.sendName, receive: method.receiveName,
                                                 sendBufferBytes: grantedBuffer(receive: false),
                                                 receiveBufferBytes: grantedBuffer(receive: true),
                                                 schedulerSliceMicroseconds: grantedSlice,
                                                 cpuLatencyMicroseconds: cpuLatencyHeld.withLock { $0 },
                                                 warmUps: warmUps, warmUpError: warmUpError,
                                                 workers: workerUsage.map {
                                                     JobResult.WorkerUsage(cpuSeconds: Double($0.cpuNanos) / 1e9,
                                                                           voluntarySwitches: $0.voluntarySwitches,
                                                                           involuntarySwitches: $0.involuntarySwitches)
                                                 }),
                            stoppedEarly: timing.withLock { $0.stopRequested },
                            echo: echo, latency: latency?.summary, appOverhead: overhead?.summary,
                            sequence: sequence, reflect: reflect, stamp: stampReport,
                            timeline: timelines.merged(elapsed: elapsed, mode: spec.mode, latency: latency?.perSecond ?? [:]),
                            jobTag: tag)
    }
}

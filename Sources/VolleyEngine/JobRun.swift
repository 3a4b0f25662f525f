import CBatchIO
import Dispatch
import Foundation
import Synchronization
import VolleyModel

/// One job's traffic: sockets opened and bound/connected in `init` (so address problems surface
/// before the job is accepted), one OS thread per worker once started, live progress while running,
/// and a report when the last worker exits.
public final class JobRun: Sendable {
    public let spec: JobSpec
    /// Random per job; stamped into every datagram so replies and sinks can tell jobs apart.
    public let tag: UInt32
    private let senders: [SendWorker]
    private let sinks: [SinkWorker]
    private let reflectors: [ReflectWorker]
    private let latency: LatencyCollector?
    private let stopSignal = StopSignal()
    private let timing = Locked<(startNanos: UInt64, stopRequested: Bool)>((0, false))

    public init(spec: JobSpec, options: EngineOptions = EngineOptions()) throws(EngineError) {
        self.spec = spec
        tag = UInt32.random(in: 1 ... .max)
        var senders: [SendWorker] = []
        var sinks: [SinkWorker] = []
        var reflectors: [ReflectWorker] = []
        latency = spec.mode == .echo ? LatencyCollector(workers: spec.threads) : nil
        switch spec.mode {
        case .send, .echo:
            guard let target = spec.target else { preconditionFailure("validated spec has a target") }
            for thread in 0..<spec.threads {
                var flows: [UDPSocket] = []
                for _ in 0..<spec.flows { flows.append(try SocketSetup.sender(to: target, spec: spec, options: options)) }
                let limit = spec.maxPackets == 0 ? nil : UInt64(Self.share(spec.maxPackets, thread, spec.threads))
                senders.append(SendWorker(flows: flows, thread: thread, tag: tag, spec: spec, limit: limit,
                                          collector: latency, options: options))
            }
        case .sink:
            guard let listen = spec.listen else { preconditionFailure("validated spec has a listen address") }
            for _ in 0..<spec.threads {
                let socket = try SocketSetup.receiver(at: listen, spec: spec, options: options)
                sinks.append(SinkWorker(socket: socket, batch: spec.batch, gro: spec.gro, totalSeconds: spec.totalSeconds,
                                        options: options))
            }
        case .reflect:
            guard let listen = spec.listen else { preconditionFailure("validated spec has a listen address") }
            for _ in 0..<spec.threads {
                let socket = try SocketSetup.receiver(at: listen, spec: spec, options: options)
                reflectors.append(ReflectWorker(socket: socket, batch: spec.batch, gro: spec.gro,
                                                totalSeconds: spec.totalSeconds, options: options))
            }
        }
        self.senders = senders
        self.sinks = sinks
        self.reflectors = reflectors
    }

    /// Splits a total evenly over `count` workers; the first `total % count` get one more.
    static func share(_ total: Int, _ index: Int, _ count: Int) -> Int {
        total / count + (index < total % count ? 1 : 0)
    }

    /// Starts every worker on its own thread; `onFinish` runs once, on a background queue, after the last exits.
    public func start(onFinish: @escaping @Sendable (EngineReport) -> Void) {
        let startNanos = MonotonicClock.now()
        let startedAt = Date()
        timing.withLock { $0.startNanos = startNanos }
        let deadline = startNanos + UInt64(spec.durationSeconds * 1e9)
        let budget = spec.maxPackets > 0 ? ReceiveBudget(limit: UInt64(spec.maxPackets)) : nil
        let stop = stopSignal
        // The last worker to exit measures the elapsed time and reports, on its own thread: no queue
        // that a busy process could delay stands between the traffic and its numbers.
        let remaining = Countdown(senders.count + sinks.count + reflectors.count)
        let finish: @Sendable () -> Void = {
            guard remaining.tick() else { return }
            let elapsed = Double(MonotonicClock.now() - startNanos) / 1e9
            onFinish(self.report(startedAt: startedAt, elapsed: elapsed))
        }
        for (index, worker) in senders.enumerated() {
            spawn("volley-send-\(index)", finish) { worker.run(startNanos: startNanos, deadline: deadline, stop: stop) }
        }
        for (index, worker) in sinks.enumerated() {
            spawn("volley-sink-\(index)", finish) {
                worker.run(startNanos: startNanos, deadline: deadline, stop: stop, budget: budget)
            }
        }
        for (index, worker) in reflectors.enumerated() {
            spawn("volley-reflect-\(index)", finish) {
                worker.run(startNanos: startNanos, deadline: deadline, stop: stop, budget: budget)
            }
        }
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
        return progress
    }

    /// Every worker's sending and receiving counters.
    private var directions: [(sent: DirectionCounters?, received: DirectionCounters?)] {
        senders.map { ($0.counters, spec.mode == .echo ? $0.receivedCounters : nil) }
            + sinks.map { (nil, $0.counters) }
            + reflectors.map { ($0.sent, $0.received) }
    }

    private func report(startedAt: Date, elapsed: Double) -> EngineReport {
        var sent = DirectionTotals(partialBatches: 0)
        var received = DirectionTotals()
        for (s, r) in directions {
            if let s { sent.merge(s.totals(withPartialBatches: true)) }
            if let r { received.merge(r.totals(withPartialBatches: false)) }
        }
        let methods = senders.map(\.io.method) + sinks.map(\.io.method) + reflectors.map(\.io.method)
        let method: IOMethod = methods.contains(.loop) ? .loop : (methods.first ?? .batched)
        var echo: EchoTotals?
        if spec.mode == .echo {
            var totals = EchoTotals()
            for worker in senders { if let e = worker.echo?.totals { totals.merge(e) } }
            echo = totals
        }
        var sequence: SequenceReport?
        if spec.mode == .sink {
            let senders = sinks.flatMap(\.senders.senders)
            let unstamped = sinks.reduce(0) { $0 + $1.senders.unstamped + $1.senders.untracked }
            sequence = SequenceReport(senders: senders, unstamped: unstamped)
        }
        let timelines = senders.compactMap(\.timeline) + sinks.compactMap(\.timeline) + reflectors.compactMap(\.timeline)
        return EngineReport(startedAt: startedAt, finishedAt: startedAt.addingTimeInterval(elapsed),
                            elapsedSeconds: elapsed, sent: sent, received: received,
                            io: JobResult.IOPath(send: method.sendName, receive: method.receiveName),
                            stoppedEarly: timing.withLock { $0.stopRequested },
                            echo: echo, latency: latency?.summary, sequence: sequence,
                            timeline: timelines.merged(elapsed: elapsed, mode: spec.mode, latency: latency?.perSecond ?? [:]),
                            jobTag: tag)
    }
}

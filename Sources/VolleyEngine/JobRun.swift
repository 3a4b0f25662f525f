import Dispatch
import Foundation
import Synchronization
import VolleyModel

/// One job's traffic: sockets opened and bound/connected in `init` (so address problems surface
/// before the job is accepted), one OS thread per worker once started, live progress while running,
/// and a report when the last worker exits.
public final class JobRun: Sendable {
    public let spec: JobSpec
    private let senders: [SendWorker]
    private let sinks: [SinkWorker]
    private let stopSignal = StopSignal()
    private let timing = Mutex<(startNanos: UInt64, startedAt: Date?, stopRequested: Bool)>((0, nil, false))

    public init(spec: JobSpec, options: EngineOptions = EngineOptions()) throws(EngineError) {
        self.spec = spec
        switch spec.mode {
        case .send:
            guard let target = spec.target else { preconditionFailure("validated spec has a target") }
            var workers: [SendWorker] = []
            for index in 0..<spec.threads {
                let socket = try Self.openSender(to: target, options: options)
                workers.append(SendWorker(socket: socket, payloadBytes: spec.payloadBytes, batch: spec.batch,
                                          ratePPS: Self.share(spec.ratePPS, index, spec.threads),
                                          maxPackets: spec.maxPackets == 0 ? nil : UInt64(Self.share(spec.maxPackets, index, spec.threads)),
                                          options: options))
            }
            senders = workers
            sinks = []
        case .sink:
            guard let listen = spec.listen else { preconditionFailure("validated spec has a listen address") }
            var workers: [SinkWorker] = []
            for _ in 0..<spec.threads {
                let socket = try Self.openSink(at: listen, shared: spec.threads > 1, options: options)
                workers.append(SinkWorker(socket: socket, batch: spec.batch, options: options))
            }
            senders = []
            sinks = workers
        }
    }

    /// Splits a total evenly over `count` workers; the first `total % count` get one more.
    static func share(_ total: Int, _ index: Int, _ count: Int) -> Int {
        total / count + (index < total % count ? 1 : 0)
    }

    private static func openSender(to target: Endpoint, options: EngineOptions) throws(EngineError) -> UDPSocket {
        do {
            let socket = try UDPSocket(family: target.family)
            try socket.setTimeouts(milliseconds: options.socketTimeoutMilliseconds)
            if let bytes = options.sendBufferBytes {
                try socket.setOption(SOL_SOCKET, SO_SNDBUF, bytes)
            } else {
                socket.requestBuffer(receive: false, bytes: options.socketBufferBytes)
            }
            try socket.connect(target)
            return socket
        } catch {
            throw EngineError(binding: target, error)
        }
    }

    private static func openSink(at listen: Endpoint, shared: Bool, options: EngineOptions) throws(EngineError) -> UDPSocket {
        let socket: UDPSocket
        do {
            socket = try UDPSocket(family: listen.family)
            try socket.setTimeouts(milliseconds: options.socketTimeoutMilliseconds)
            socket.requestBuffer(receive: true, bytes: options.socketBufferBytes)
            if shared { try socket.setOption(SOL_SOCKET, SO_REUSEPORT, 1) }
            if listen.address.isIPv6 { try socket.setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        } catch {
            throw EngineError(binding: listen, error)
        }
        do {
            try socket.bind(listen)
        } catch {
            throw EngineError(binding: listen, error)
        }
        return socket
    }

    /// Starts every worker on its own thread; `onFinish` runs once, on a background queue, after the last exits.
    public func start(onFinish: @escaping @Sendable (EngineReport) -> Void) {
        let group = DispatchGroup()
        let startNanos = MonotonicClock.now()
        let startedAt = Date()
        timing.withLock { $0.startNanos = startNanos; $0.startedAt = startedAt }
        let deadline = startNanos + UInt64(spec.durationSeconds * 1e9)
        let budget = spec.maxPackets > 0 ? ReceiveBudget(limit: UInt64(spec.maxPackets)) : nil
        for (index, worker) in senders.enumerated() {
            spawn("volley-send-\(index)", group) { worker.run(startNanos: startNanos, deadline: deadline, stop: self.stopSignal) }
        }
        for (index, worker) in sinks.enumerated() {
            spawn("volley-sink-\(index)", group) {
                worker.run(deadline: deadline, stop: self.stopSignal, budget: budget)
            }
        }
        group.notify(queue: .global()) {
            let elapsed = Double(MonotonicClock.now() - startNanos) / 1e9
            onFinish(self.report(startedAt: startedAt, elapsed: elapsed))
        }
    }

    private func spawn(_ name: String, _ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.name = name
        thread.start()
    }

    /// Asks every worker to stop; they notice within one socket timeout or pacing sleep (≤ 20 ms).
    public func stop() {
        timing.withLock { $0.stopRequested = true }
        stopSignal.set()
    }

    /// Counters so far, read without disturbing the workers.
    public func progress() -> JobProgress {
        let start = timing.withLock { $0.startNanos }
        var progress = JobProgress()
        for worker in senders {
            progress.packetsSent += worker.counters.packetCount
            progress.bytesSent += worker.counters.byteCount
        }
        for worker in sinks {
            progress.packetsReceived += worker.counters.packetCount
            progress.bytesReceived += worker.counters.byteCount
        }
        progress.elapsedSeconds = start == 0 ? 0 : Double(MonotonicClock.now() - start) / 1e9
        return progress
    }

    private func report(startedAt: Date, elapsed: Double) -> EngineReport {
        var sent = DirectionTotals(partialBatches: 0)
        var received = DirectionTotals()
        for worker in senders { sent.merge(worker.counters.totals(withPartialBatches: true)) }
        for worker in sinks { received.merge(worker.counters.totals(withPartialBatches: false)) }
        let sendLoop = senders.contains { $0.io.method == .loop }
        let receiveLoop = sinks.contains { $0.io.method == .loop }
        let preferred = (senders.first?.io.method ?? sinks.first?.io.method) ?? .batched
        let io = JobResult.IOPath(send: (sendLoop ? IOMethod.loop : preferred).sendName,
                                  receive: (receiveLoop ? IOMethod.loop : preferred).receiveName)
        return EngineReport(startedAt: startedAt, finishedAt: startedAt.addingTimeInterval(elapsed),
                            elapsedSeconds: elapsed, sent: sent, received: received, io: io,
                            stoppedEarly: timing.withLock { $0.stopRequested })
    }
}

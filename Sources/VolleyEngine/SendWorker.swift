import Glibc

/// One sending thread: its own connected socket, a prepared batch, a pacer, and its counters.
/// After `run()` starts, only this thread touches the batch memory.
final class SendWorker: @unchecked Sendable {
    private let socket: UDPSocket
    private let batch: MessageBatch
    private let payloadBytes: Int
    private let ratePPS: Int
    /// nil: no limit. A thread whose share of the job's limit is 0 sends nothing.
    private let maxPackets: UInt64?
    private let perCallLimit: Int
    let counters = DirectionCounters()
    private(set) var io: BatchIO

    init(socket: UDPSocket, payloadBytes: Int, batch: Int, ratePPS: Int, maxPackets: UInt64?, options: EngineOptions) {
        self.socket = socket
        self.payloadBytes = payloadBytes
        self.ratePPS = ratePPS
        self.maxPackets = maxPackets
        self.batch = MessageBatch(capacity: batch, slotBytes: payloadBytes, withAddresses: false)
        self.batch.fillPattern()
        perCallLimit = min(batch, options.maxMessagesPerCall ?? batch)
        io = BatchIO(method: options.ioMethod)
    }

    /// Sends until `deadline` (monotonic ns), `maxPackets`, or `stop`. Allocates nothing per packet.
    func run(startNanos: UInt64, deadline: UInt64, stop: StopSignal) {
        let pacer = Pacer(ratePPS: ratePPS, batch: batch.capacity, startNanos: startNanos)
        var sent: UInt64 = 0
        var now = startNanos
        while !stop.isSet && now < deadline && sent < (maxPackets ?? .max) {
            var want = pacer.allowance(sent: sent, now: now)
            if want == 0 {
                // Simple pacing: sleep toward the next due packet, at most 5 ms so a stop is seen quickly.
                MonotonicClock.sleep(nanoseconds: min(pacer.waitNanos(sent: sent, now: now), 5_000_000))
                now = MonotonicClock.now()
                continue
            }
            if let maxPackets { want = Int(min(UInt64(want), maxPackets - sent)) }
            sent &+= UInt64(sendAll(want, deadline: deadline, stop: stop))
            now = MonotonicClock.now()
        }
    }

    /// Sends `count` prepared messages, continuing after short counts until all are out (or time is up).
    /// Returns how many went out.
    private func sendAll(_ count: Int, deadline: UInt64, stop: StopSignal) -> Int {
        var offset = 0
        while offset < count {
            let ask = min(count - offset, perCallLimit)
            let outcome = io.send(fd: socket.fd, batch.headers + offset, count: ask)
            counters.syscalls.wrappingAdd(UInt64(outcome.syscalls), ordering: .relaxed)
            if outcome.count > 0 {
                counters.add(packets: outcome.count, bytes: outcome.count * payloadBytes)
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

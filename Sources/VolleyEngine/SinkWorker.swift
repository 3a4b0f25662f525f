import Glibc

/// One receiving thread: its own bound socket, a prepared batch of receive slots, and its counters.
final class SinkWorker: @unchecked Sendable {
    /// Bytes kept of each datagram; MSG_TRUNC still reports the full length for the byte count.
    static let slotBytes = 2048

    private let socket: UDPSocket
    private let batch: MessageBatch
    let counters = DirectionCounters()
    private(set) var io: BatchIO

    init(socket: UDPSocket, batch: Int, options: EngineOptions) {
        self.socket = socket
        self.batch = MessageBatch(capacity: batch, slotBytes: Self.slotBytes, withAddresses: true)
        io = BatchIO(method: options.ioMethod)
    }

    /// Receives until `deadline` or `stop`; with a `budget`, stops the whole job once it is used up.
    func run(deadline: UInt64, stop: StopSignal, budget: ReceiveBudget?) {
        var dirty = batch.capacity
        while !stop.isSet && MonotonicClock.now() < deadline {
            batch.resetForReceive(count: dirty)
            let outcome = io.receive(fd: socket.fd, batch.headers, count: batch.capacity)
            if outcome.count == 0 {
                dirty = 0
                if outcome.errno == EAGAIN { continue }  // receive timeout: idle, not an error
                counters.syscalls.wrappingAdd(1, ordering: .relaxed)
                counters.countError(ErrorCategory(errno: outcome.errno))
                MonotonicClock.sleep(nanoseconds: 200_000)
                continue
            }
            dirty = outcome.count
            var bytes = 0
            for i in 0..<outcome.count { bytes &+= Int(batch.headers[i].msg_len) }
            counters.syscalls.wrappingAdd(UInt64(outcome.syscalls), ordering: .relaxed)
            counters.add(packets: outcome.count, bytes: bytes)
            if let budget, budget.record(outcome.count) {
                stop.set()
            }
        }
    }
}

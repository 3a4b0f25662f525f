import CBatchIO
import Glibc

/// One receiving thread (mode `sink`): its own bound socket, a prepared batch of receive slots,
/// its counters, timeline and sequence statistics. With GRO, coalesced receives are split back into
/// the datagrams that were on the wire before anything is counted.
final class SinkWorker: @unchecked Sendable {
    private let socket: UDPSocket
    private let batch: MessageBatch
    private let gro: Bool
    let counters: DirectionCounters
    private var receiver: BatchReceiver
    var io: BatchIO { receiver.io }
    private(set) var senders: SenderTable
    private(set) var timeline: WorkerTimeline?
    private let totalSeconds: Double
    private var overhead: AppOverhead?
    private var sources: SourceReading

    /// Builds the worker and its buffers; called on the worker's own thread when the job starts.
    init(socket: UDPSocket, batch: Int, gro: Bool, totalSeconds: Double, flows: FlowBudget, overhead: LatencyCollector? = nil,
         counters: DirectionCounters, options: EngineOptions) {
        self.socket = socket
        sources = SourceReading(quietAfter: options.sinkSourcesQuietAfter)
        self.counters = counters
        senders = SenderTable(budget: flows)
        self.gro = gro
        self.totalSeconds = totalSeconds
        // Without GRO only the stamp is needed (MSG_TRUNC still reports full lengths); with it a
        // slot must hold a whole coalesced receive.
        self.batch = MessageBatch(capacity: batch, slotBytes: Self.slotBytes(gro: gro), withAddresses: true,
                                  controlBytes: Self.controlBytes(gro: gro, kernelTimestamps: overhead != nil))
        self.overhead = overhead.map(AppOverhead.init(collector:))
        receiver = BatchReceiver(method: options.ioMethod, sockets: 1, capacity: batch)
    }

    static func slotBytes(gro: Bool) -> Int { gro ? 65_536 : 2_048 }
    /// Room for the SO_RXQ_OVFL drop count on every datagram, the GRO segment size, and the kernel
    /// receive timestamp.
    static func controlBytes(gro: Bool, kernelTimestamps: Bool = false) -> Int {
        CBatchIO_rxq_control_size() + (gro ? CBatchIO_gro_control_size() : 0)
            + (kernelTimestamps ? CBatchIO_timestamping_control_size() : 0)
    }

    /// Bytes of its batch (its flows' windows are counted per job, against the shared `FlowBudget`).
    var allocatedBytes: Int { batch.allocatedBytes }

    /// Receives until `deadline` or `stop`; with a `budget`, stops the whole job once it is used up.
    func run(startNanos: UInt64, deadline: UInt64, stop: StopSignal, budget: ReceiveBudget?) {
        let timeline = WorkerTimeline(totalSeconds: totalSeconds, startNanos: startNanos)
        self.timeline = timeline
        // As in ReflectWorker: the state the loop changes lives in locals and goes back to the worker
        // when the run ends (read only then). Changed in place as stored properties of this class,
        // each access took a dynamic exclusivity check (swift_beginAccess/endAccess), two pairs a
        // datagram: ~2.7 % of an overloaded sink's CPU (Benchmarks/README.md, "Throughput rounds").
        // The overhead recorder's histograms are moved, not shared, so its first record does not copy them.
        var receiver = self.receiver, senders = self.senders, overhead = self.overhead.take(), sources = self.sources
        defer { (self.receiver, self.senders, self.overhead, self.sources) = (receiver, senders, overhead, sources) }
        senders.reserveSourceless()
        while !stop.isSet && MonotonicClock.now() < deadline {
            let count = receiver.receive(0, fd: socket.fd, into: batch, counters: counters)
            guard count > 0 else { continue }
            // One arrival time per batch: a clock read per datagram would cost more than the rest of
            // the accounting. At the rates where batches hold many datagrams, jitter is dominated by
            // that batching anyway; at a few thousand pps a batch is mostly one datagram. The read is
            // the receiver's, taken right after the call returned.
            let arrival = receiver.returnedAt
            var datagrams = 0
            var bytes = 0
            let second = timeline.second(arrival)
            overhead?.beginBatch()
            let stampedBefore = senders.stamped
            for i in 0..<count {
                overhead?.record(&batch.headers[i].msg_hdr, handledAt: arrival, second: second)
                let (d, b) = account(i, arrival: arrival, senders: &senders)
                datagrams &+= d
                bytes &+= b
            }
            let withSources = batch.readsAddresses
            let step = sources.next(datagrams: datagrams, stamped: senders.stamped &- stampedBefore, withSources: withSources)
            if step.read != withSources { batch.readAddresses(step.read) }
            if step.settle { senders.settleSourceless() }
            counters.add(packets: datagrams, bytes: bytes)
            timeline.addReceived(datagrams, at: arrival)
            if let budget, budget.record(datagrams) { stop.set() }
        }
        senders.settleSourceless()
        receiver.settleDrops(0, fd: socket.fd, counters: counters)
        overhead?.finish(lastSecond: timeline.second(MonotonicClock.now()))
    }

    /// Counts message `i` as the datagrams it stands for and feeds their stamps to the sender table.
    @inline(__always)
    private func account(_ i: Int, arrival: UInt64, senders: inout SenderTable) -> (datagrams: Int, bytes: Int) {
        let length = Int(batch.headers[i].msg_len)
        let slot = batch.slot(i)
        // nil while the sink is not asking for sources (`SourceReading`).
        let address: UnsafePointer<sockaddr_storage>? = batch.address(i).map { UnsafePointer($0) }
        let segment = gro ? Int(CBatchIO_gro_segment_size(&batch.headers[i].msg_hdr)) : 0
        guard segment > 0, length > segment else {
            senders.record(slot, length: min(length, batch.slotBytes), from: address, arrivalNanos: arrival)
            return (1, length)
        }
        var offset = 0
        var count = 0
        while offset < length {
            let piece = min(segment, length - offset)
            if offset + piece <= batch.slotBytes {
                senders.record(slot + offset, length: piece, from: address, arrivalNanos: arrival)
            }
            offset += piece
            count += 1
        }
        return (count, length)
    }
}

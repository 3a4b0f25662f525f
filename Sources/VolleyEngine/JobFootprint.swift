import CBatchIO
import Glibc
import VolleyModel

/// What a job will hold while it runs, computed from its spec alone so that an agent can refuse a job
/// it cannot afford before accepting it: the memory of its buffers, windows, histograms and timelines,
/// and its sockets. The buffer terms mirror what the workers allocate (`allocatedBytes` after start).
public struct JobFootprint: Sendable, Equatable {
    public var memoryBytes: Int
    public var sockets: Int

    public init(memoryBytes: Int, sockets: Int) {
        self.memoryBytes = memoryBytes
        self.sockets = sockets
    }

    /// One Volley latency histogram (1 µs to 60 s, 3 digits): about 17,400 64-bit counts, rounded up.
    static let histogramBytes = 160 << 10

    /// The field that contributes most to a spec's buffers, to name in a refusal.
    public static func largestField(of spec: JobSpec) -> String {
        switch spec.mode {
        case .send, .echo:
            return spec.payloadHex != nil ? "payload_hex" : (spec.sizes != nil ? "sizes" : "payload_bytes")
        case .sink, .reflect:
            return "batch"
        }
    }

    public init(spec: JobSpec) {
        let threads = spec.threads
        let timeline = (Int(spec.totalSeconds.rounded(.up)) + 2) * 3 * MemoryLayout<UInt64>.stride
        var perThread = timeline
        switch spec.mode {
        case .send, .echo:
            let slotBytes = max(0, spec.largestPayload)
            let shape = SendWorker.shape(spec, slotBytes: slotBytes)
            perThread += MessageBatch.bytes(capacity: shape.messages, slotBytes: shape.messageBytes, withAddresses: false,
                                            controlBytes: spec.gso ? CBatchIO_segment_control_size() : 0)
            perThread += shape.messages * 3 * MemoryLayout<Int>.stride
            if spec.mode == .echo {
                perThread += MessageBatch.bytes(capacity: spec.batch, slotBytes: max(slotBytes, JobSpec.stampBytes, StampPacket.baseBytes),
                                                withAddresses: false, controlBytes: EchoReceiver.controlBytes(spec))
                perThread += spec.flows * (SequenceWindow.defaultBytes + MemoryLayout<pollfd>.stride) + 2 * Self.histogramBytes
            }
            memoryBytes = threads * perThread + (spec.mode == .echo ? Self.histogramBytes : 0)
            if spec.mode == .echo && spec.echoProtocol == .stamp {
                // Turnaround, forward and backward: two histograms per thread each, and a merged one.
                memoryBytes += 3 * (threads * 2 + 1) * Self.histogramBytes
                memoryBytes += threads * spec.flows * MemoryLayout<StampEchoState.Flow>.stride
            }
            sockets = threads * spec.flows + spec.warmUpSockets
        case .sink:
            perThread += MessageBatch.bytes(capacity: spec.batch, slotBytes: SinkWorker.slotBytes(gro: spec.gro),
                                            withAddresses: true,
                                            controlBytes: SinkWorker.controlBytes(gro: spec.gro, kernelTimestamps: spec.timestamps == .kernel))
            // Each thread's held datagrams without a source (`SenderTable.sourcelessLimit`); each
            // tracked flow: its window plus its table entry and index slot (about 128 bytes).
            perThread += SenderTable.sourcelessBytes
            memoryBytes = threads * perThread + FlowBudget.defaultLimit * (SequenceWindow.defaultBytes + 128)
            sockets = threads
        case .reflect where spec.echoProtocol == .stamp:
            perThread += MessageBatch.bytes(capacity: spec.batch, slotBytes: ReflectWorker.slotBytes(batch: spec.batch, gro: false),
                                            withAddresses: true, controlBytes: StampReflectWorker.controlBytes)
            if spec.stateful { perThread += StampSessions.bytes(limit: StampSessions.defaultLimit) }
            memoryBytes = threads * perThread
            sockets = threads
        case .reflect:
            perThread += MessageBatch.bytes(capacity: spec.batch, slotBytes: ReflectWorker.slotBytes(batch: spec.batch, gro: spec.gro),
                                            withAddresses: true, controlBytes: SinkWorker.controlBytes(gro: spec.gro))
            perThread += spec.batch * ((spec.gro ? CBatchIO_segment_control_size() : 0) + MemoryLayout<Int>.stride)
            memoryBytes = threads * perThread
            sockets = threads
        }
        // `cpu_latency_us`: the PM QoS device's descriptor, held from set-up like the sockets (the
        // budget is one of descriptors).
        if spec.cpuLatencyMicroseconds != nil { sockets += 1 }
        // Kernel timestamps: each receiving thread's two app-overhead histograms, and the merged one.
        if spec.timestamps == .kernel { memoryBytes += (threads * 2 + 1) * Self.histogramBytes }
    }
}

/// Exact totals for one direction (sending or receiving) of a job.
public struct DirectionTotals: Codable, Equatable, Sendable {
    /// Datagrams the kernel accepted (sent) or delivered (received).
    public var packets: UInt64 = 0
    /// UDP payload bytes of those datagrams.
    public var bytes: UInt64 = 0
    /// sendmmsg/recvmmsg calls made (or sendmsg/recvmsg calls on the fallback path).
    public var syscalls: UInt64 = 0
    /// Calls that moved some but not all messages of their batch (sending only).
    public var partialBatches: UInt64?
    /// Failed calls by category, e.g. `connection_refused`, `would_block`, `no_buffers`.
    public var errors: [String: UInt64] = [:]
    /// Sending: pauses taken because the kernel was out of buffers (ENOBUFS, EAGAIN); each was
    /// followed by a retry of the same datagrams.
    public var backoffs: UInt64?
    /// Sending: datagrams given up on after an error a retry would meet again (EMSGSIZE, EPERM, …);
    /// they are not in `packets`, and used no sequence numbers.
    public var skipped: UInt64?
    /// Receiving: datagrams the kernel dropped at the job's own sockets because their receive
    /// queues were full (SO_RXQ_OVFL / SO_MEMINFO). Loss beyond these happened before the socket.
    public var kernelDrops: UInt64?

    public init(packets: UInt64 = 0, bytes: UInt64 = 0, syscalls: UInt64 = 0, partialBatches: UInt64? = nil,
                errors: [String: UInt64] = [:]) {
        self.packets = packets
        self.bytes = bytes
        self.syscalls = syscalls
        self.partialBatches = partialBatches
        self.errors = errors
    }

    enum CodingKeys: String, CodingKey {
        case packets, bytes, syscalls, errors, backoffs, skipped
        case partialBatches = "partial_batches"
        case kernelDrops = "kernel_drops"
    }
}

/// Live counters of a job, as `GET /v1/jobs/{id}` shows them while it runs.
public struct JobProgress: Codable, Equatable, Sendable {
    public var packetsSent: UInt64
    public var packetsReceived: UInt64
    public var bytesSent: UInt64
    public var bytesReceived: UInt64
    public var elapsedSeconds: Double
    /// Echo jobs while they run: the round-trip times of the latest second that every receiving
    /// thread has finished (so about a second behind); absent before the first such second.
    public var rtt: LiveRTT?
    /// Jobs that receive, while they run: datagrams the kernel has dropped so far at the job's
    /// sockets because their receive queues were full.
    public var kernelDrops: UInt64?

    public init(packetsSent: UInt64 = 0, packetsReceived: UInt64 = 0, bytesSent: UInt64 = 0, bytesReceived: UInt64 = 0,
                elapsedSeconds: Double = 0, rtt: LiveRTT? = nil, kernelDrops: UInt64? = nil) {
        self.packetsSent = packetsSent
        self.packetsReceived = packetsReceived
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
        self.elapsedSeconds = elapsedSeconds
        self.rtt = rtt
        self.kernelDrops = kernelDrops
    }

    enum CodingKeys: String, CodingKey {
        case packetsSent = "packets_sent"
        case packetsReceived = "packets_received"
        case bytesSent = "bytes_sent"
        case bytesReceived = "bytes_received"
        case elapsedSeconds = "elapsed_s"
        case rtt = "rtt_us"
        case kernelDrops = "kernel_drops"
    }
}

/// One finished second's round-trip percentiles, in microseconds, as a running echo job shows them.
public struct LiveRTT: Codable, Equatable, Sendable {
    /// Whole seconds since the job started: the second these replies arrived in.
    public var second: Int
    public var p50: UInt64
    public var p99: UInt64

    public init(second: Int, p50: UInt64, p99: UInt64) {
        self.second = second
        self.p50 = p50
        self.p99 = p99
    }

    enum CodingKeys: String, CodingKey {
        case second = "t", p50, p99
    }
}

extension DirectionTotals {
    /// Adds another worker's totals into this one.
    /// Sums saturate: a fleet merges totals from results of other agents, which may hold anything.
    public mutating func merge(_ other: DirectionTotals) {
        packets = packets.addingSaturated(other.packets)
        bytes = bytes.addingSaturated(other.bytes)
        syscalls = syscalls.addingSaturated(other.syscalls)
        if let p = other.partialBatches { partialBatches = (partialBatches ?? 0).addingSaturated(p) }
        if let b = other.backoffs { backoffs = (backoffs ?? 0).addingSaturated(b) }
        if let s = other.skipped { skipped = (skipped ?? 0).addingSaturated(s) }
        if let d = other.kernelDrops { kernelDrops = (kernelDrops ?? 0).addingSaturated(d) }
        errors.merge(other.errors) { $0.addingSaturated($1) }
    }
}

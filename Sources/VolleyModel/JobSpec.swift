/// What a client asks the agent to do: one UDP job, decoded from JSON and validated before it runs.
/// Omitted optional fields take the defaults below; the stored spec always spells every field of
/// its mode out, so a result says exactly what ran.
public struct JobSpec: Sendable, Equatable {
    /// What the job's workers do with their sockets.
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// Send datagrams to `target`.
        case send
        /// Receive and count datagrams arriving at `listen` (with sequence statistics for stamped ones).
        case sink
        /// Send stamped datagrams to `target` and measure the replies: loss, duplicates, order, RTT.
        case echo
        /// Send every datagram arriving at `listen` back to its source.
        case reflect

        /// Modes that send datagrams of their own (and so take rates, sizes and flows).
        public var originates: Bool { self == .send || self == .echo }
    }

    /// One step of a rate profile: hold `ratePPS`, or move linearly to `rampToPPS`, for `durationSeconds`.
    public struct ProfileStep: Sendable, Equatable, Codable {
        public var ratePPS: Int?
        public var rampToPPS: Int?
        public var durationSeconds: Double

        public init(ratePPS: Int? = nil, rampToPPS: Int? = nil, durationSeconds: Double) {
            self.ratePPS = ratePPS
            self.rampToPPS = rampToPPS
            self.durationSeconds = durationSeconds
        }

        enum CodingKeys: String, CodingKey {
            case ratePPS = "rate_pps"
            case rampToPPS = "ramp_to_pps"
            case durationSeconds = "duration_s"
        }
    }

    /// One entry of an IMIX: datagrams of `bytes`, drawn with relative `weight`.
    public struct SizeWeight: Sendable, Equatable, Codable {
        public var bytes: Int
        public var weight: Int

        public init(bytes: Int, weight: Int) {
            self.bytes = bytes
            self.weight = weight
        }

        enum CodingKeys: String, CodingKey {
            case bytes, weight
        }
    }

    public var mode: Mode
    /// A client-chosen id (`^[A-Za-z0-9._-]{1,64}$`): resubmitting the same spec with it returns the
    /// existing job instead of starting another, so orchestrators can retry safely.
    public var id: JobID?
    /// When to start, to the millisecond; nil starts as soon as a slot is free.
    public var startAt: Timestamp?
    /// Where `send` and `echo` jobs send to.
    public var target: Endpoint?
    /// Where `sink` and `reflect` jobs receive.
    public var listen: Endpoint?
    /// How long the job runs (for `echo`, the sending phase), in seconds; the profile's total when one is given.
    public var durationSeconds: Double
    /// Total datagrams per second across all threads; `unlimitedRate` (0) means as fast as possible,
    /// which JSON spells `"max"`. For `reflect`, a cap on replies per second (unlimited: no cap of
    /// the job's own; the agent's `--max-rate-pps` still holds).
    public var ratePPS: Int
    /// Rate steps that replace `rate_pps` and `duration_s`.
    public var profile: [ProfileStep]?
    /// UDP payload size of each datagram (when neither `sizes` nor `payload_hex` is given).
    public var payloadBytes: Int
    /// A weighted mix of payload sizes, drawn by a generator seeded with `seed`.
    public var sizes: [SizeWeight]?
    public var seed: UInt64
    /// A fixed payload, as hex (send only): sent as is, without Volley's stamp.
    public var payloadHex: String?
    /// Datagrams handed to the kernel per sendmmsg/recvmmsg call.
    public var batch: Int
    /// Worker threads, each with its own sockets.
    public var threads: Int
    /// Sockets per thread, each with its own source port, used in turn.
    public var flows: Int
    /// Stop after this many datagrams in total (sent for `send`/`echo`, received otherwise); 0 means no limit.
    public var maxPackets: Int
    /// How long an echo reply may take, and how long the job waits for stragglers after sending.
    public var echoTimeoutMilliseconds: Int
    /// Echo and reflect: after each wait begins, poll the sockets without sleeping for up to this
    /// many microseconds before blocking (0: block at once). Trades a CPU for wake-up latency.
    /// Send (paced): spin on the clock for the last this many microseconds of each wait for the next
    /// batch instead of sleeping (a shorter wait never sleeps). Trades a CPU for steadier pacing.
    public var busyPollMicroseconds: Int = 0
    /// While the job's traffic runs, hold a Linux PM QoS CPU latency request of this many µs
    /// (`/dev/cpu_dma_latency`): no CPU of the host enters an idle state slower than that to leave.
    /// 0 keeps idle CPUs polling instead of halting, so a wake-up on another CPU (a reply, a timer)
    /// does not wait for a halted (v)CPU. Host-wide, and every idle CPU spins meanwhile; needs write
    /// access to the device. nil: no request.
    public var cpuLatencyMicroseconds: Int?
    /// Echo: before a request that follows a sleep, send one datagram to a loopback socket of the
    /// worker's own and read it back, so the kernel's UDP paths are not cold after the sleep's VM exit.
    public var warmUp = true
    /// Send with UDP generic segmentation offload (one super-datagram per up to 64 datagrams).
    public var gso: Bool
    /// Receive with UDP generic receive offload; counts stay per datagram on the wire.
    public var gro: Bool
    /// Free-form labels stored with the job and its result.
    public var tags: [String: String]
    /// Pass/fail bounds checked when the job ends (the result's `verdict`).
    public var thresholds: Thresholds?
    /// The rate as asked in payload bits per second (`rate_bps`), when it was asked that way;
    /// `ratePPS` then holds the datagram rate it works out to (see `JobSpec.datagramRate(forBitRate:)`).
    public var rateBPS: Int?
    /// Echo and sink jobs: `kernel` also reads the kernel's software receive timestamp of every
    /// datagram (SO_TIMESTAMPING), to report `app_overhead_us` next to the application's figures.
    public var timestamps: TimestampSource = .app
    /// Echo and reflect: Volley's own stamp, or STAMP (RFC 8762) to measure to routers and probes.
    public var echoProtocol: EchoProtocol = .volley
    /// STAMP echo: the reflector keeps per-session sequence numbers (RFC 8762 §4.3.2), so loss is
    /// split by direction. STAMP reflect: be that reflector (bounded per-session state).
    public var stateful = false
    /// STAMP echo: the Session-Sender Identifier (RFC 8972 §3), 1–65535; nil draws one per job.
    public var ssid: Int?
    /// STAMP: the format of the timestamps this side writes.
    public var timestampFormat: StampTimestampFormat = .ntp

    /// Where a job's receive times come from.
    public enum TimestampSource: String, Codable, Sendable {
        /// The job's own clock reads when it handles a batch.
        case app
        /// Those, and the kernel's software receive timestamps.
        case kernel
    }

    public static let defaultDurationSeconds = 10.0
    /// What an originating spec without `rate_pps` sends: a deliberate, modest rate (iperf3's UDP
    /// default is 1 Mbit/s for the same reason). As fast as possible has to be asked for: `"max"`.
    public static let defaultRatePPS = 1000
    /// `ratePPS` for "as fast as possible" (`"rate_pps": "max"`).
    public static let unlimitedRate = 0
    public static let defaultPayloadBytes = 64
    public static let defaultBatch = 64
    public static let defaultEchoTimeoutMilliseconds = 1000

    public init(
        mode: Mode, target: Endpoint? = nil, listen: Endpoint? = nil,
        durationSeconds: Double = JobSpec.defaultDurationSeconds, ratePPS: Int = 0, profile: [ProfileStep]? = nil,
        payloadBytes: Int = JobSpec.defaultPayloadBytes, sizes: [SizeWeight]? = nil, seed: UInt64 = 1,
        payloadHex: String? = nil, batch: Int = JobSpec.defaultBatch, threads: Int = 1, flows: Int = 1,
        maxPackets: Int = 0, echoTimeoutMilliseconds: Int = JobSpec.defaultEchoTimeoutMilliseconds,
        gso: Bool = false, gro: Bool = false, tags: [String: String] = [:], thresholds: Thresholds? = nil
    ) {
        self.mode = mode
        self.target = target
        self.listen = listen
        self.durationSeconds = profile.map { $0.reduce(0) { $0 + $1.durationSeconds } } ?? durationSeconds
        self.ratePPS = ratePPS
        self.profile = profile
        self.payloadBytes = payloadBytes
        self.sizes = sizes
        self.seed = seed
        self.payloadHex = payloadHex
        self.batch = batch
        self.threads = threads
        self.flows = flows
        self.maxPackets = maxPackets
        self.echoTimeoutMilliseconds = echoTimeoutMilliseconds
        self.gso = gso
        self.gro = gro
        self.tags = tags
        self.thresholds = thresholds
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, id, target, listen
        case startAt = "start_at"
        case durationSeconds = "duration_s"
        case ratePPS = "rate_pps"
        case rateBPS = "rate_bps"
        case profile
        case payloadBytes = "payload_bytes"
        case sizes, seed
        case payloadHex = "payload_hex"
        case batch, threads, flows
        case maxPackets = "max_packets"
        case echoTimeoutMilliseconds = "echo_timeout_ms"
        case busyPollMicroseconds = "busy_poll_us"
        case cpuLatencyMicroseconds = "cpu_latency_us"
        case warmUp = "warm_up"
        case gso, gro, tags, thresholds, timestamps
        case echoProtocol = "protocol"
        case stateful, ssid
        case timestampFormat = "timestamp_format"
    }

    /// Fields that mean something for a mode; any other known field is refused rather than ignored.
    static func fields(for mode: Mode) -> Set<CodingKeys> {
        let common: Set<CodingKeys> = [.mode, .id, .startAt, .durationSeconds, .batch, .threads, .maxPackets, .tags, .thresholds,
                                       .cpuLatencyMicroseconds]
        let originating: Set<CodingKeys> = [.target, .ratePPS, .rateBPS, .profile, .payloadBytes, .sizes, .seed, .flows]
        switch mode {
        case .send: return common.union(originating).union([.payloadHex, .gso, .busyPollMicroseconds])
        case .echo:
            return common.union(originating).union([.echoTimeoutMilliseconds, .timestamps, .busyPollMicroseconds, .warmUp,
                                                    .echoProtocol, .stateful, .ssid, .timestampFormat])
        case .sink: return common.union([.listen, .gro, .timestamps])
        case .reflect:
            return common.union([.listen, .gro, .ratePPS, .busyPollMicroseconds, .echoProtocol, .stateful, .timestampFormat])
        }
    }

    /// Sockets an echo's warm-up holds besides its flows: one per thread (`warm_up`), else none.
    /// Both the per-job socket cap and the admission footprint count them.
    public var warmUpSockets: Int { mode == .echo && warmUp ? threads : 0 }

    /// The endpoint whose address the allowlist must admit.
    public var endpoint: Endpoint? { mode.originates ? target : listen }

    /// The payload sizes this job can send, largest first matters for buffer sizing.
    public var largestPayload: Int {
        if let hex = payloadHex { return hex.utf8.count / 2 }
        return sizes?.map(\.bytes).max() ?? payloadBytes
    }

    /// The average rate asked for: `rate_pps`, or a profile's planned datagrams over its duration.
    public var plannedAveragePPS: Int {
        guard profile != nil, durationSeconds > 0 else { return ratePPS }
        return Int((RateSchedule(spec: self).due(at: UInt64(durationSeconds * 1e9)) / durationSeconds).rounded())
    }

    /// Mean payload bytes per datagram: the fixed size, or the weighted mean of `sizes`.
    public var meanPayloadBytes: Double {
        if let hex = payloadHex { return Double(hex.utf8.count / 2) }
        guard let sizes, !sizes.isEmpty else { return Double(payloadBytes) }
        let weight = sizes.reduce(0.0) { $0 + Double($1.weight) }
        return weight > 0 ? sizes.reduce(0.0) { $0 + Double($1.bytes) * Double($1.weight) } / weight : Double(payloadBytes)
    }

    /// Datagrams per second that carry `bps` payload bits per second at this spec's mean payload
    /// size (rounded to the nearest, at least 1). Payload bits, as iperf3's `-b` and `achieved_bps` count them.
    public func datagramRate(forBitRate bps: Int) -> Int {
        let bitsPerDatagram = meanPayloadBytes * 8
        guard bitsPerDatagram > 0 else { return 0 }
        return max(1, Int(min((Double(bps) / bitsPerDatagram).rounded(), Double(Int.max / 2))))
    }

    /// How long the job may take in all: sending (or receiving) plus the echo wait.
    public var totalSeconds: Double {
        durationSeconds + (mode == .echo ? Double(echoTimeoutMilliseconds) / 1000 : 0)
    }
}

extension JobSpec: Encodable {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let used = Self.fields(for: mode)
        try c.encode(mode, forKey: .mode)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encodeIfPresent(startAt, forKey: .startAt)
        if used.contains(.target) { try c.encodeIfPresent(target, forKey: .target) }
        if used.contains(.listen) { try c.encodeIfPresent(listen, forKey: .listen) }
        // A profile replaces rate_pps and duration_s (its duration is the sum of its steps).
        if profile == nil {
            try c.encode(durationSeconds, forKey: .durationSeconds)
            if let rateBPS, used.contains(.rateBPS) {
                try c.encode(rateBPS, forKey: .rateBPS)
            } else if used.contains(.ratePPS) {
                if ratePPS == Self.unlimitedRate { try c.encode("max", forKey: .ratePPS) } else { try c.encode(ratePPS, forKey: .ratePPS) }
            }
        } else if used.contains(.profile) {
            try c.encode(profile, forKey: .profile)
        }
        if used.contains(.payloadBytes) && payloadHex == nil && sizes == nil {
            try c.encode(payloadBytes, forKey: .payloadBytes)
        }
        if used.contains(.sizes), let sizes {
            try c.encode(sizes, forKey: .sizes)
            try c.encode(seed, forKey: .seed)
        }
        if used.contains(.payloadHex) { try c.encodeIfPresent(payloadHex, forKey: .payloadHex) }
        try c.encode(batch, forKey: .batch)
        try c.encode(threads, forKey: .threads)
        if used.contains(.flows) { try c.encode(flows, forKey: .flows) }
        try c.encode(maxPackets, forKey: .maxPackets)
        if used.contains(.echoTimeoutMilliseconds) { try c.encode(echoTimeoutMilliseconds, forKey: .echoTimeoutMilliseconds) }
        // Only when asked for: specs written before the field existed encode as they did.
        if used.contains(.busyPollMicroseconds) && busyPollMicroseconds > 0 {
            try c.encode(busyPollMicroseconds, forKey: .busyPollMicroseconds)
        }
        try c.encodeIfPresent(cpuLatencyMicroseconds, forKey: .cpuLatencyMicroseconds)
        if used.contains(.warmUp) && !warmUp { try c.encode(warmUp, forKey: .warmUp) }
        if used.contains(.gso) { try c.encode(gso, forKey: .gso) }
        if used.contains(.gro) { try c.encode(gro, forKey: .gro) }
        try c.encode(tags, forKey: .tags)
        if let thresholds, !thresholds.isEmpty { try c.encode(thresholds, forKey: .thresholds) }
        if timestamps == .kernel { try c.encode(timestamps, forKey: .timestamps) }
        // Only STAMP jobs spell their protocol out: specs of Volley's own encode as they always did.
        if echoProtocol == .stamp && used.contains(.echoProtocol) {
            try c.encode(echoProtocol, forKey: .echoProtocol)
            try c.encode(stateful, forKey: .stateful)
            if used.contains(.ssid) { try c.encodeIfPresent(ssid, forKey: .ssid) }
            try c.encode(timestampFormat, forKey: .timestampFormat)
        }
    }
}

/// What a client asks the agent to do: one UDP job, decoded from JSON and validated before it runs.
/// Omitted optional fields take the defaults below; the stored spec always spells every field out.
public struct JobSpec: Sendable, Equatable {
    /// What the job's workers do with their sockets.
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// Send datagrams to `target`.
        case send
        /// Receive and count datagrams arriving at `listen`.
        case sink
    }

    public var mode: Mode
    /// Where `send` jobs send to.
    public var target: Endpoint?
    /// Where `sink` jobs receive.
    public var listen: Endpoint?
    /// How long the job runs, in seconds (fractions allowed).
    public var durationSeconds: Double
    /// Total datagrams per second across all threads; 0 means as fast as possible.
    public var ratePPS: Int
    /// UDP payload size of each datagram.
    public var payloadBytes: Int
    /// Datagrams handed to the kernel per sendmmsg/recvmmsg call.
    public var batch: Int
    /// Worker threads, each with its own socket.
    public var threads: Int
    /// Stop after this many datagrams in total (sent for `send`, received for `sink`); 0 means no limit.
    public var maxPackets: Int
    /// Free-form labels stored with the job and its result.
    public var tags: [String: String]

    public static let defaultDurationSeconds = 10.0
    public static let defaultPayloadBytes = 64
    public static let defaultBatch = 64

    public init(
        mode: Mode, target: Endpoint? = nil, listen: Endpoint? = nil,
        durationSeconds: Double = JobSpec.defaultDurationSeconds, ratePPS: Int = 0,
        payloadBytes: Int = JobSpec.defaultPayloadBytes, batch: Int = JobSpec.defaultBatch, threads: Int = 1,
        maxPackets: Int = 0, tags: [String: String] = [:]
    ) {
        self.mode = mode
        self.target = target
        self.listen = listen
        self.durationSeconds = durationSeconds
        self.ratePPS = ratePPS
        self.payloadBytes = payloadBytes
        self.batch = batch
        self.threads = threads
        self.maxPackets = maxPackets
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, target, listen
        case durationSeconds = "duration_s"
        case ratePPS = "rate_pps"
        case payloadBytes = "payload_bytes"
        case batch, threads
        case maxPackets = "max_packets"
        case tags
    }

    /// Fields that mean something for a mode; any other known field is refused rather than ignored.
    static func fields(for mode: Mode) -> Set<CodingKeys> {
        switch mode {
        case .send: [.mode, .target, .durationSeconds, .ratePPS, .payloadBytes, .batch, .threads, .maxPackets, .tags]
        case .sink: [.mode, .listen, .durationSeconds, .batch, .threads, .maxPackets, .tags]
        }
    }

    /// The endpoint whose address the allowlist must admit.
    public var endpoint: Endpoint? { mode == .send ? target : listen }
}

extension JobSpec: Encodable {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let used = Self.fields(for: mode)
        try c.encode(mode, forKey: .mode)
        if used.contains(.target) { try c.encodeIfPresent(target, forKey: .target) }
        if used.contains(.listen) { try c.encodeIfPresent(listen, forKey: .listen) }
        try c.encode(durationSeconds, forKey: .durationSeconds)
        if used.contains(.ratePPS) { try c.encode(ratePPS, forKey: .ratePPS) }
        if used.contains(.payloadBytes) { try c.encode(payloadBytes, forKey: .payloadBytes) }
        try c.encode(batch, forKey: .batch)
        try c.encode(threads, forKey: .threads)
        try c.encode(maxPackets, forKey: .maxPackets)
        try c.encode(tags, forKey: .tags)
    }
}

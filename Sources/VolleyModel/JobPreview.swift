import Foundation

/// What a job would do, worked out from its spec without running it: the answer of `POST /v1/validate`
/// and of `volley validate` offline. The agent fills in the footprint (the engine computes it) and
/// whether the job would start now; offline, `admission` is nil because nobody asked an agent.
public struct JobPreview: Codable, Equatable, Sendable {
    /// When an agent would start the job, as things stand at the moment it was asked.
    public enum Admission: String, Codable, Sendable {
        /// A slot is free and nothing waits ahead of it: it would be `running` at once.
        case startsNow = "starts_now"
        /// Every `--max-jobs` slot is busy (or older jobs wait): it would be `queued`.
        case queued
        /// It has a `start_at`: it would be `scheduled`.
        case scheduled
        /// Its `id` names an existing job with an equal spec: submitting returns that job (200).
        case exists
    }

    public var mode: JobSpec.Mode
    /// `target` (send, echo) or `listen` (sink, reflect).
    public var endpoint: String?
    /// Datagrams per second asked (the average of a profile); nil: as fast as possible, or a
    /// receiving job (its rate is the sender's; a reflector's cap is `rate_pps` in `spec`).
    public var ratePPS: Int?
    /// `ratePPS` in payload bits per second at the spec's mean payload size.
    public var rateBPS: Int?
    /// True when the spec gives no rate and the default (`JobSpec.defaultRatePPS`) applies.
    public var rateIsDefault: Bool
    public var durationSeconds: Double
    /// Sending time plus, for echo, the wait for the last replies.
    public var totalSeconds: Double
    /// Datagrams it would send (the rate over the duration, or `max_packets` when lower); nil when
    /// unbounded (a `"max"` rate) or a receiving job.
    public var datagrams: Int?
    /// Payload bytes of those datagrams (datagrams × mean payload size).
    public var bytes: Int?
    /// Buffer and window memory the job holds against the agent's budget while active.
    public var memoryBytes: Int
    public var sockets: Int
    public var admission: Admission?
    /// The existing job when `admission` is `exists`.
    public var jobID: JobID?
    /// The spec after defaults are applied, as the agent would store it.
    public var spec: JobSpec

    public init(spec: JobSpec, rateIsDefault: Bool, memoryBytes: Int, sockets: Int, admission: Admission? = nil,
                jobID: JobID? = nil) {
        self.spec = spec
        mode = spec.mode
        endpoint = spec.endpoint?.description
        let asked = spec.mode.originates && spec.ratePPS != JobSpec.unlimitedRate ? spec.plannedAveragePPS : nil
        ratePPS = asked
        // A rate asked in bit/s is shown as asked; the datagram rate it became rounds it.
        rateBPS = asked.map { spec.profile == nil ? spec.rateBPS ?? Int((Double($0) * spec.meanPayloadBytes * 8).rounded()) : Int((Double($0) * spec.meanPayloadBytes * 8).rounded()) }
        self.rateIsDefault = rateIsDefault && spec.mode.originates
        durationSeconds = spec.durationSeconds
        totalSeconds = spec.totalSeconds
        if spec.mode.originates {
            let planned = asked.map { Int((Double($0) * spec.durationSeconds).rounded()) }
            datagrams = spec.maxPackets > 0 ? min(spec.maxPackets, planned ?? .max) : planned
        } else {
            datagrams = nil
        }
        bytes = datagrams.map { Int((Double($0) * spec.meanPayloadBytes).rounded()) }
        self.memoryBytes = memoryBytes
        self.sockets = sockets
        self.admission = admission
        self.jobID = jobID
    }

    /// Whether the JSON object gives a rate itself (`rate_pps`, `rate_bps` or a `profile`), so that
    /// a summary can say when the default applies. Reads the raw object: the decoded spec cannot tell.
    public static func specGivesRate(_ object: [String: Any]?) -> Bool {
        guard let object else { return false }
        // null means omitted, as in decoding, so the default applies.
        return ["rate_pps", "rate_bps", "profile"].contains { key in object[key].map { !($0 is NSNull) } ?? false }
    }

    enum CodingKeys: String, CodingKey {
        case mode, endpoint, datagrams, bytes, sockets, admission, spec
        case ratePPS = "rate_pps"
        case rateBPS = "rate_bps"
        case rateIsDefault = "rate_is_default"
        case durationSeconds = "duration_s"
        case totalSeconds = "total_s"
        case memoryBytes = "memory_bytes"
        case jobID = "job_id"
    }

    /// Every key always written (null when unknown), so clients see one shape.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mode, forKey: .mode)
        try c.encode(endpoint, forKey: .endpoint)
        try c.encode(ratePPS, forKey: .ratePPS)
        try c.encode(rateBPS, forKey: .rateBPS)
        try c.encode(rateIsDefault, forKey: .rateIsDefault)
        try c.encode(durationSeconds, forKey: .durationSeconds)
        try c.encode(totalSeconds, forKey: .totalSeconds)
        try c.encode(datagrams, forKey: .datagrams)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(memoryBytes, forKey: .memoryBytes)
        try c.encode(sockets, forKey: .sockets)
        try c.encode(admission, forKey: .admission)
        try c.encode(jobID, forKey: .jobID)
        try c.encode(spec, forKey: .spec)
    }
}

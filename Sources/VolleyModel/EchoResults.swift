import Histogram

/// Exact reply accounting of an echo job (`"echo"` in the result). Whatever peers send, every
/// datagram read on the echo sockets lands in exactly one of `received`, `late`, `duplicates`,
/// `too_old` or `foreign`, and `received + late ≤ sent` (each sequence number counts once at most).
public struct EchoTotals: Codable, Equatable, Sendable {
    /// Stamped datagrams sent.
    public var sent: UInt64 = 0
    /// First copies of replies that came back within `echo_timeout_ms`.
    public var received: UInt64 = 0
    /// Datagrams sent whose reply never arrived in time: `sent − received`.
    public var lost: UInt64 = 0
    /// Extra copies of a reply already seen.
    public var duplicates: UInt64 = 0
    /// First copies that arrived after a reply with a higher sequence number on the same flow.
    public var reordered: UInt64 = 0
    /// First copies of replies that arrived after `echo_timeout_ms` (not counted as received).
    public var late: UInt64 = 0
    /// Replies too far behind the newest on their flow (the 65,536-number window) to tell a first
    /// copy from a replayed one: not counted as received or late.
    public var tooOld: UInt64 = 0
    /// Datagrams that cannot be replies to this job: no stamp, another job's tag or flow, a sequence
    /// number not sent yet, or a send time outside the job (counted, otherwise ignored).
    public var foreign: UInt64 = 0

    public init() {}

    /// Sums saturate and `lost` stops at 0: a fleet merges totals from other agents' results, which
    /// may hold anything (even more received than sent).
    public mutating func merge(_ o: EchoTotals) {
        sent = sent.addingSaturated(o.sent)
        received = received.addingSaturated(o.received)
        duplicates = duplicates.addingSaturated(o.duplicates)
        reordered = reordered.addingSaturated(o.reordered)
        late = late.addingSaturated(o.late)
        tooOld = tooOld.addingSaturated(o.tooOld)
        foreign = foreign.addingSaturated(o.foreign)
        lost = sent.subtractingSaturated(received)
    }

    enum CodingKeys: String, CodingKey {
        case sent, received, lost, duplicates, reordered, late, foreign
        case tooOld = "too_old"
    }

    /// Reads results of every version (`too_old` came later).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sent = try c.decode(UInt64.self, forKey: .sent)
        received = try c.decode(UInt64.self, forKey: .received)
        lost = try c.decode(UInt64.self, forKey: .lost)
        duplicates = try c.decode(UInt64.self, forKey: .duplicates)
        reordered = try c.decode(UInt64.self, forKey: .reordered)
        late = try c.decode(UInt64.self, forKey: .late)
        tooOld = try c.decodeIfPresent(UInt64.self, forKey: .tooOld) ?? 0
        foreign = try c.decode(UInt64.self, forKey: .foreign)
    }
}

/// Round-trip times in microseconds (`"latency_us"`), summarised from one HDR histogram, with the
/// histogram itself in the standard V2 compressed base64 form so other tools can read or merge it.
public struct LatencySummary: Codable, Equatable, Sendable {
    public var count: UInt64
    public var min: UInt64
    public var mean: Double
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var p9999: UInt64
    public var max: UInt64
    public var hdr: String

    /// A histogram configured as every Volley latency histogram: 1 µs to 60 s, 3 significant digits.
    public static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }

    public init(_ h: Histogram<UInt64>) {
        count = h.totalCount
        min = h.totalCount == 0 ? 0 : h.min
        mean = h.totalCount == 0 ? 0 : h.mean
        p50 = h.valueAtPercentile(50)
        p90 = h.valueAtPercentile(90)
        p99 = h.valueAtPercentile(99)
        p999 = h.valueAtPercentile(99.9)
        p9999 = h.valueAtPercentile(99.99)
        max = h.max
        hdr = HDREncoding.encode(h)
    }
}

/// One second of a job (`"timeline"`): counts of that second, rates, and for echo jobs loss and RTT.
public struct TimelineEntry: Codable, Equatable, Sendable {
    /// Seconds since the job started (this entry covers `t_s` to `t_s + 1`).
    public var t: Int
    public var sent: UInt64
    public var received: UInt64
    /// Datagrams per second in this second: sent for `send`/`echo`, received for `sink`/`reflect`.
    public var achievedPPS: Double
    /// Echo only: datagrams sent in this second whose reply never came in time.
    public var lost: UInt64?
    public var rttP50: UInt64?
    public var rttP99: UInt64?

    public init(t: Int, sent: UInt64, received: UInt64, achievedPPS: Double, lost: UInt64? = nil,
                rttP50: UInt64? = nil, rttP99: UInt64? = nil) {
        self.t = t
        self.sent = sent
        self.received = received
        self.achievedPPS = achievedPPS
        self.lost = lost
        self.rttP50 = rttP50
        self.rttP99 = rttP99
    }

    enum CodingKeys: String, CodingKey {
        case t = "t_s"
        case sent, received, lost
        case achievedPPS = "achieved_pps"
        case rttP50 = "rtt_p50_us"
        case rttP99 = "rtt_p99_us"
    }
}

/// One-way sequence statistics of one stamped flow seen by a sink (`"sequence"`).
public struct SenderSequence: Codable, Equatable, Sendable {
    /// The sender's address and port.
    public var source: String
    /// The sending job's tag and flow number, from the stamp.
    public var jobTag: UInt32
    public var flow: UInt32
    /// Distinct sequence numbers received.
    public var unique: UInt64
    public var duplicates: UInt64
    /// First copies that arrived after a higher sequence number.
    public var reordered: UInt64
    /// Sequence numbers below the highest seen that never arrived: `highest_seq + 1 − unique`.
    public var gaps: UInt64
    public var highestSeq: UInt64
    /// Datagrams too far behind the highest sequence number to be classified (beyond the 65,536 window).
    public var tooOld: UInt64
    /// RFC 3550 interarrival jitter of this flow's first copies, in µs; nil before two arrived and in
    /// results written by earlier versions.
    public var jitterUs: Double?

    public init(source: String, jobTag: UInt32, flow: UInt32, unique: UInt64, duplicates: UInt64, reordered: UInt64,
                highestSeq: UInt64, tooOld: UInt64, jitterUs: Double? = nil) {
        self.source = source
        self.jobTag = jobTag
        self.flow = flow
        self.unique = unique
        self.duplicates = duplicates
        self.reordered = reordered
        self.highestSeq = highestSeq
        self.tooOld = tooOld
        self.jitterUs = jitterUs
        // highest_seq + 1 − unique without the `+ 1` overflowing: the sequence numbers come from
        // received stamps, and a hostile sender can put UInt64.max there.
        gaps = unique > highestSeq ? 0 : (highestSeq - unique).addingSaturated(1)
    }

    enum CodingKeys: String, CodingKey {
        case source, flow, unique, duplicates, reordered, gaps
        case jobTag = "job_tag"
        case highestSeq = "highest_seq"
        case tooOld = "too_old"
        case jitterUs = "jitter_us"
    }
}

/// What a sink learned from stamped payloads.
public struct SequenceReport: Codable, Equatable, Sendable {
    /// One entry per tracked flow, at most `flow_limit` of them.
    public var senders: [SenderSequence]
    /// Datagrams without a Volley stamp.
    public var unstamped: UInt64
    /// Stamped datagrams of flows beyond `flow_limit`: counted in `received`, not tracked.
    public var untrackedDatagrams: UInt64
    /// How many flows the sink tracks per job (each costs a fixed window of memory).
    public var flowLimit: Int?
    /// The flows' jitter in µs, weighted by each flow's distinct datagrams (so a flow of three
    /// datagrams does not count as much as one of a million); nil when no flow has a jitter.
    public var jitterUs: Double?

    /// `jitterUs` is always derived from `senders`, so a merged report (a fleet's) recomputes it.
    public init(senders: [SenderSequence], unstamped: UInt64, untrackedDatagrams: UInt64 = 0, flowLimit: Int? = nil) {
        self.senders = senders
        self.unstamped = unstamped
        self.untrackedDatagrams = untrackedDatagrams
        self.flowLimit = flowLimit
        jitterUs = Self.weightedJitter(senders)
    }

    /// The mean of the flows' jitter weighted by their distinct datagrams.
    public static func weightedJitter(_ senders: [SenderSequence]) -> Double? {
        var weight = 0.0
        var sum = 0.0
        for s in senders {
            guard let j = s.jitterUs, j.isFinite else { continue }
            let w = Double(max(s.unique, 1))
            weight += w
            sum += j * w
        }
        return weight > 0 ? sum / weight : nil
    }

    enum CodingKeys: String, CodingKey {
        case senders, unstamped
        case untrackedDatagrams = "untracked_datagrams"
        case flowLimit = "flow_limit"
        case jitterUs = "jitter_us"
    }

    /// Reads results of every version (`untracked_datagrams` and `flow_limit` came later).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        senders = try c.decode([SenderSequence].self, forKey: .senders)
        unstamped = try c.decode(UInt64.self, forKey: .unstamped)
        untrackedDatagrams = try c.decodeIfPresent(UInt64.self, forKey: .untrackedDatagrams) ?? 0
        flowLimit = try c.decodeIfPresent(Int.self, forKey: .flowLimit)
        jitterUs = try c.decodeIfPresent(Double.self, forKey: .jitterUs)
    }
}

/// What a STAMP echo job measured beyond Volley's own echo figures (`"stamp"` in the result). The
/// result's `latency_us` is STAMP's round trip without the reflector's turnaround,
/// `(T4 − T1) − (T3 − T2)`; this section adds the turnaround, the one-way delays when the two clocks
/// allow them, and the loss split by direction when the reflector is stateful.
public struct StampEchoReport: Codable, Equatable, Sendable {
    /// The Session-Sender Identifier the job sent (RFC 8972 §3).
    public var ssid: Int
    /// The format of this side's timestamps, and of the reflector's as its replies said (Z bit;
    /// `mixed` when replies disagreed, absent before any reply).
    public var timestampFormat: StampTimestampFormat
    public var reflectorTimestampFormat: String?
    /// This host's clock was synchronized to an external source when the job started (adjtimex),
    /// which sets the S bit of the job's Error Estimate.
    public var senderClockSynchronized: Bool
    /// Every counted reply carried the S bit; absent before any reply.
    public var reflectorClockSynchronized: Bool?
    /// The target is this host (loopback or one of its addresses): both sides read one clock.
    public var sharedClock: Bool
    /// Whether `forward_us` and `backward_us` mean something, and why (or why not).
    public var oneWayValid: Bool
    public var oneWayNote: String
    /// The reflector's turnaround `T3 − T2`, µs.
    public var turnaroundUs: LatencySummary?
    /// One-way delays `T2 − T1` and `T4 − T3`, µs; only when `one_way_valid`.
    public var forwardUs: LatencySummary?
    public var backwardUs: LatencySummary?
    /// One-way values below zero (clock error larger than the delay): recorded as 0 and counted here.
    public var negativeOneWay: UInt64
    /// Replies whose turnaround exceeded `T4 − T1` (a reflector clock running fast or slow between
    /// T2 and T3): their round trip is recorded as 0 and counted here.
    public var turnaroundOverRTT: UInt64
    /// Loss split by direction (stateful reflectors only).
    public var loss: StampLoss

    public init(ssid: Int, timestampFormat: StampTimestampFormat, reflectorTimestampFormat: String?,
                senderClockSynchronized: Bool, reflectorClockSynchronized: Bool?, sharedClock: Bool, oneWayValid: Bool,
                oneWayNote: String, turnaroundUs: LatencySummary?, forwardUs: LatencySummary?, backwardUs: LatencySummary?,
                negativeOneWay: UInt64, turnaroundOverRTT: UInt64, loss: StampLoss) {
        self.ssid = ssid
        self.timestampFormat = timestampFormat
        self.reflectorTimestampFormat = reflectorTimestampFormat
        self.senderClockSynchronized = senderClockSynchronized
        self.reflectorClockSynchronized = reflectorClockSynchronized
        self.sharedClock = sharedClock
        self.oneWayValid = oneWayValid
        self.oneWayNote = oneWayNote
        self.turnaroundUs = turnaroundUs
        self.forwardUs = forwardUs
        self.backwardUs = backwardUs
        self.negativeOneWay = negativeOneWay
        self.turnaroundOverRTT = turnaroundOverRTT
        self.loss = loss
    }

    enum CodingKeys: String, CodingKey {
        case ssid, loss
        case timestampFormat = "timestamp_format"
        case reflectorTimestampFormat = "reflector_timestamp_format"
        case senderClockSynchronized = "sender_clock_synchronized"
        case reflectorClockSynchronized = "reflector_clock_synchronized"
        case sharedClock = "shared_clock"
        case oneWayValid = "one_way_valid"
        case oneWayNote = "one_way_note"
        case turnaroundUs = "turnaround_us"
        case forwardUs = "forward_us"
        case backwardUs = "backward_us"
        case negativeOneWay = "negative_one_way"
        case turnaroundOverRTT = "turnaround_over_rtt"
    }
}

/// Where an echo job's lost datagrams were lost (`"stamp.loss"`). A stateful reflector numbers its
/// replies itself, so the gap between the sender's and the reflector's sequence numbers is what
/// never reached it. When attributed: `forward + backward + late + unknown == echo.lost`, where
/// `late` is `echo.late` (replies that came after the timeout) and `unknown` the datagrams sent
/// after the last one answered on each flow (either direction could have lost them).
public struct StampLoss: Codable, Equatable, Sendable {
    /// Whether the split below holds: the spec said the reflector is stateful and every reply agreed.
    public var attributed: Bool
    /// Why not, when not.
    public var note: String?
    public var forward: UInt64?
    public var backward: UInt64?
    public var unknown: UInt64?

    public init(attributed: Bool, note: String? = nil, forward: UInt64? = nil, backward: UInt64? = nil, unknown: UInt64? = nil) {
        self.attributed = attributed
        self.note = note
        self.forward = forward
        self.backward = backward
        self.unknown = unknown
    }
}

/// What a STAMP reflect job did beyond `reflect` (`"stamp"` in a reflect result).
public struct StampReflectTotals: Codable, Equatable, Sendable {
    public var stateful: Bool
    public var timestampFormat: StampTimestampFormat
    /// This host's clock was synchronized (the S bit of the replies' Error Estimate).
    public var clockSynchronized: Bool
    /// Stateful: sessions (source address, port and SSID) tracked, at most `session_limit`; sessions
    /// forgotten after `idle` to make room; datagrams of new sessions refused while the table was
    /// full of live ones (also counted in `reflect.refused_sessions`).
    public var sessions: Int?
    public var sessionLimit: Int?
    public var sessionsEvicted: UInt64?
    /// Replies whose T2 is the kernel's receive timestamp, and those read from the clock instead.
    public var kernelReceiveTimestamps: UInt64
    public var appReceiveTimestamps: UInt64
    /// TLVs (RFC 8972 §4) reflected with the U flag (type not understood) or the M flag (malformed).
    public var tlvsUnrecognized: UInt64
    public var tlvsMalformed: UInt64

    public init(stateful: Bool, timestampFormat: StampTimestampFormat, clockSynchronized: Bool) {
        self.stateful = stateful
        self.timestampFormat = timestampFormat
        self.clockSynchronized = clockSynchronized
        kernelReceiveTimestamps = 0
        appReceiveTimestamps = 0
        tlvsUnrecognized = 0
        tlvsMalformed = 0
    }

    public mutating func merge(_ o: StampReflectTotals) {
        if let s = o.sessions {
            let (sum, overflow) = (sessions ?? 0).addingReportingOverflow(s)
            sessions = overflow ? Int.max : sum
        }
        if let e = o.sessionsEvicted { sessionsEvicted = (sessionsEvicted ?? 0).addingSaturated(e) }
        kernelReceiveTimestamps = kernelReceiveTimestamps.addingSaturated(o.kernelReceiveTimestamps)
        appReceiveTimestamps = appReceiveTimestamps.addingSaturated(o.appReceiveTimestamps)
        tlvsUnrecognized = tlvsUnrecognized.addingSaturated(o.tlvsUnrecognized)
        tlvsMalformed = tlvsMalformed.addingSaturated(o.tlvsMalformed)
    }

    enum CodingKeys: String, CodingKey {
        case stateful, sessions
        case timestampFormat = "timestamp_format"
        case clockSynchronized = "clock_synchronized"
        case sessionLimit = "session_limit"
        case sessionsEvicted = "sessions_evicted"
        case kernelReceiveTimestamps = "kernel_receive_timestamps"
        case appReceiveTimestamps = "app_receive_timestamps"
        case tlvsUnrecognized = "tlvs_unrecognized"
        case tlvsMalformed = "tlvs_malformed"
    }
}

/// What a reflect job refused to answer (`"reflect"` in the result), so that every datagram it read is
/// accounted for: `received.packets` = `sent.packets` + the refused counts below (+ send errors).
/// With STAMP, "unstamped" means shorter than a STAMP test packet (44 bytes) and "replies" means
/// datagrams that carry a Session-Reflector's receive timestamp where a Session-Sender's is MBZ.
public struct ReflectTotals: Codable, Equatable, Sendable {
    /// Datagrams from sources outside the agent's allowlist, or from the reflector's own socket.
    public var refusedSources: UInt64 = 0
    /// Datagrams without a Volley stamp: a reflector answers only Volley requests.
    public var refusedUnstamped: UInt64 = 0
    /// Datagrams that are themselves replies (the stamp's reply flag): answering them would let two
    /// reflectors bounce one datagram between them for ever.
    public var refusedReplies: UInt64 = 0
    /// Requests over the reply-rate cap, dropped unanswered.
    public var rateLimited: UInt64 = 0
    /// The cap replies were held to, in datagrams per second across all threads (absent: none).
    public var replyCapPPS: Int?
    /// STAMP, stateful: datagrams of new sessions while the session table was full of live ones.
    public var refusedSessions: UInt64 = 0
    /// STAMP jobs: what the Session-Reflector did (absent for Volley's own protocol).
    public var stamp: StampReflectTotals?

    public init() {}

    public mutating func merge(_ o: ReflectTotals) {
        refusedSources &+= o.refusedSources
        refusedUnstamped &+= o.refusedUnstamped
        refusedReplies &+= o.refusedReplies
        rateLimited &+= o.rateLimited
        refusedSessions &+= o.refusedSessions
        if let other = o.stamp {
            if stamp == nil { stamp = other } else { stamp!.merge(other) }
        }
    }

    enum CodingKeys: String, CodingKey {
        case refusedSources = "refused_sources"
        case refusedUnstamped = "refused_unstamped"
        case refusedReplies = "refused_replies"
        case rateLimited = "rate_limited"
        case replyCapPPS = "reply_cap_pps"
        case refusedSessions = "refused_sessions"
        case stamp
    }

    /// Reads results of every version (`refused_sessions` came with STAMP).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        refusedSources = try c.decode(UInt64.self, forKey: .refusedSources)
        refusedUnstamped = try c.decode(UInt64.self, forKey: .refusedUnstamped)
        refusedReplies = try c.decode(UInt64.self, forKey: .refusedReplies)
        rateLimited = try c.decode(UInt64.self, forKey: .rateLimited)
        replyCapPPS = try c.decodeIfPresent(Int.self, forKey: .replyCapPPS)
        refusedSessions = try c.decodeIfPresent(UInt64.self, forKey: .refusedSessions) ?? 0
        stamp = try c.decodeIfPresent(StampReflectTotals.self, forKey: .stamp)
    }
}

/// What a reflect job refused to answer (`"reflect"` in the result), so that every datagram it read is
/// accounted for: `received.packets` = `sent.packets` + the four counts below (+ send errors).
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

    public init() {}

    public mutating func merge(_ o: ReflectTotals) {
        refusedSources &+= o.refusedSources
        refusedUnstamped &+= o.refusedUnstamped
        refusedReplies &+= o.refusedReplies
        rateLimited &+= o.rateLimited
    }

    enum CodingKeys: String, CodingKey {
        case refusedSources = "refused_sources"
        case refusedUnstamped = "refused_unstamped"
        case refusedReplies = "refused_replies"
        case rateLimited = "rate_limited"
        case replyCapPPS = "reply_cap_pps"
    }
}

import Glibc

/// A stateful STAMP reflector's sessions (RFC 8762 §4.3.2): one reply counter per sender address,
/// port and SSID, in a table of fixed size reserved up front. A new session takes a free place, or
/// the place of the longest-idle session that has been quiet for `idleNanos`; when every place holds
/// a live session it is refused (counted), so forged senders cannot grow the state or evict live
/// sessions for less than `idleNanos`.
struct StampSessions {
    struct Key: Hashable {
        var source: SourceAddress
        var ssid: UInt16
    }

    private struct Session {
        var next: UInt32 = 0
        var lastSeen: UInt64
    }

    static let defaultLimit = 4096
    static let idleNanos: UInt64 = 10_000_000_000

    let limit: Int
    private var table: [Key: Session] = [:]
    private(set) var evicted: UInt64 = 0
    /// After a scan found no idle session: no session can be idle long enough before this time, so
    /// new sessions are refused without scanning again (a flood of them costs O(1) each, not O(n)).
    private var noEvictionBefore: UInt64 = 0

    init(limit: Int = StampSessions.defaultLimit) {
        self.limit = limit
        table.reserveCapacity(limit)
    }

    var count: Int { table.count }

    /// Bytes reserved for the table (for the job's footprint).
    static func bytes(limit: Int) -> Int { limit * (MemoryLayout<Key>.stride + MemoryLayout<Session>.stride + 8) }

    /// The reflector's sequence number for the next reply of this sender's session, or nil when the
    /// table is full of live sessions.
    @inline(__always)
    mutating func next(from address: UnsafePointer<sockaddr_storage>, ssid: UInt16, now: UInt64) -> UInt32? {
        let key = Key(source: SourceAddress(address), ssid: ssid)
        if let index = table.index(forKey: key) {  // one hash lookup for a known session
            let next = table.values[index].next
            table.values[index] = Session(next: next &+ 1, lastSeen: now)
            return next
        }
        if table.count >= limit {
            guard now >= noEvictionBefore, let (oldest, session) = table.min(by: { $0.value.lastSeen < $1.value.lastSeen }) else {
                return nil
            }
            guard now &- session.lastSeen >= Self.idleNanos else {
                noEvictionBefore = session.lastSeen &+ Self.idleNanos
                return nil
            }
            table[oldest] = nil
            evicted &+= 1
        }
        table[key] = Session(next: 1, lastSeen: now)
        return 0
    }
}

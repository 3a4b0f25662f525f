/// A token bucket for a reflector's replies: at most `perSecond` datagrams a second on average, with
/// bursts of up to 10 ms worth (at least one batch), so a flood sent to a reflector comes back no
/// faster than its cap. A `perSecond` of 0 means no cap. Pure: the caller passes the time.
struct ReplyLimiter {
    private let perSecond: Double
    private let burst: Double
    private var credit: Double
    private var last: UInt64

    init(perSecond: Int, batch: Int, now: UInt64) {
        self.perSecond = Double(max(0, perSecond))
        burst = max(Double(batch), self.perSecond / 100)
        credit = burst
        last = now
    }

    var isUnlimited: Bool { perSecond == 0 }

    /// Takes `count` replies' worth of credit at `now`, or none when there is not enough.
    @inline(__always)
    mutating func take(_ count: Int, now: UInt64) -> Bool {
        guard perSecond > 0 else { return true }
        if now > last {
            credit = min(burst, credit + Double(now - last) * perSecond / 1e9)
            last = now
        }
        guard credit >= Double(count) else { return false }
        credit -= Double(count)
        return true
    }
}

/// Decides how many datagrams a worker may send now to hold `ratePPS` on average, and how long to
/// wait when it may send none. Credit accrues from the worker's start, so a late batch is made up
/// for rather than lost; the batch shrinks at low rates so the gap between sends stays about 1 ms.
struct Pacer {
    let ratePPS: Int
    let startNanos: UInt64
    /// Largest batch this pacer hands out.
    let batchLimit: Int
    private static let nanosPerSecond: UInt64 = 1_000_000_000

    init(ratePPS: Int, batch: Int, startNanos: UInt64) {
        self.ratePPS = ratePPS
        self.startNanos = startNanos
        batchLimit = ratePPS == 0 ? batch : max(1, min(batch, ratePPS / 1000))
    }

    /// Datagrams allowed now, given `sent` so far: 0 means wait `waitNanos(sent:now:)`.
    @inline(__always)
    func allowance(sent: UInt64, now: UInt64) -> Int {
        guard ratePPS > 0 else { return batchLimit }
        let elapsed = now &- startNanos
        // Packets due by now; +1 so the first one goes at time zero. 128-bit to avoid overflow.
        let due = Self.nanosPerSecond.dividingFullWidth(elapsed.multipliedFullWidth(by: UInt64(ratePPS))).quotient + 1
        return due > sent ? Int(min(due - sent, UInt64(batchLimit))) : 0
    }

    /// Nanoseconds until the next datagram is due.
    @inline(__always)
    func waitNanos(sent: UInt64, now: UInt64) -> UInt64 {
        guard ratePPS > 0 else { return 0 }
        let dueAt = startNanos &+ UInt64(ratePPS).dividingFullWidth(sent.multipliedFullWidth(by: Self.nanosPerSecond)).quotient
        return dueAt > now ? dueAt - now : 0
    }
}

import VolleyModel

/// Decides how many datagrams a worker may send now to follow its `RateSchedule`, and how long to
/// wait when it may send none. Credit accrues from the start, so a late batch is made up for rather
/// than lost; batches shrink with the rate so datagrams leave about every `gapNanos`, never in
/// bursts longer than needed.
struct Pacer {
    let schedule: RateSchedule
    let startNanos: UInt64
    let batch: Int
    /// Target gap between sends at paced rates.
    let gapNanos: Double
    /// Throughput (send): one wake-up and one call per 250 µs.
    static let sendGapNanos: Double = 250_000
    /// Latency (echo): up to 10,000/s every request leaves on its own, so none waits behind another
    /// of the same job (at 10,000/s, bursts of two every 200 µs made the p50 RTT 22–23 µs where
    /// single requests read 12.5, same CPU); above, bursts are 100 µs worth. Shorter gaps cost a timer wake-up per datagram that
    /// one CPU shared with a reflector cannot keep up with (Benchmarks/README.md).
    static let echoGapNanos: Double = 100_000

    /// The gap a job's paced workers keep: `echoGapNanos` for echo (Volley's and STAMP), else `sendGapNanos`.
    static func gapNanos(for mode: JobSpec.Mode) -> Double { mode == .echo ? echoGapNanos : sendGapNanos }

    init(schedule: RateSchedule, batch: Int, startNanos: UInt64, gapNanos: Double = Pacer.sendGapNanos) {
        self.schedule = schedule
        self.startNanos = startNanos
        self.batch = batch
        self.gapNanos = gapNanos
    }

    /// Largest batch at the current rate: about one gap's worth of datagrams.
    @inline(__always)
    func batchLimit(now: UInt64) -> Int {
        if schedule.isUnlimited { return batch }
        let perGap = schedule.rate(at: now &- startNanos) * gapNanos / 1e9
        return max(1, min(batch, Int(perGap)))
    }

    /// Datagrams allowed now, given `sent` so far; 0 means wait `waitNanos(sent:now:)`. A paced
    /// worker waits until a whole batch (one gap's worth) is owed, then sends it in one call.
    @inline(__always)
    func allowance(sent: UInt64, now: UInt64) -> Int {
        if schedule.isUnlimited { return batch }
        // +1 so that the first datagram goes at time zero.
        let due = schedule.due(at: now &- startNanos).rounded(.down) + 1
        let owed = due - Double(sent)
        let limit = batchLimit(now: now)
        return owed >= Double(limit) ? limit : 0
    }

    /// Datagrams due before `deadline` (monotonic ns): what a worker that kept up has sent by then.
    /// Unlimited schedules owe nothing.
    func dueBefore(_ deadline: UInt64) -> UInt64 {
        if schedule.isUnlimited || deadline <= startNanos { return 0 }
        let due = schedule.due(at: deadline - startNanos - 1).rounded(.down) + 1
        return due > 0 && due < Double(UInt64.max / 2) ? UInt64(due) : 0
    }

    /// Nanoseconds until the next datagram is due (an estimate from the current rate, at most 2 ms,
    /// after which the caller asks again).
    @inline(__always)
    func waitNanos(sent: UInt64, now: UInt64) -> UInt64 {
        if schedule.isUnlimited { return 0 }
        let elapsed = now &- startNanos
        // A batch of `limit` is owed once due(t) reaches sent + limit − 1.
        let missing = Double(sent) + Double(batchLimit(now: now) - 1) - schedule.due(at: elapsed)
        let rate = schedule.rate(at: elapsed)
        guard rate > 0 else { return 2_000_000 }
        return UInt64(min(2e6, max(0, missing / rate * 1e9)))
    }
}

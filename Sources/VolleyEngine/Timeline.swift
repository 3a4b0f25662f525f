import VolleyModel

/// One worker's per-second counts, preallocated for the whole job; index = whole seconds since start.
final class WorkerTimeline {
    let seconds: Int
    /// Per second, in one allocation: datagrams sent, received, and (echo) replies counted against
    /// the second their datagram was sent in (for per-second loss). Raw memory rather than arrays:
    /// an element of an array that is a stored `var` of a class is written through a dynamic
    /// exclusivity check and a uniqueness check (about 120 instructions a call), and a reflector
    /// made two such calls between each request and its reply.
    private let counts: UnsafeMutablePointer<UInt64>
    let startNanos: UInt64

    init(totalSeconds: Double, startNanos: UInt64) {
        seconds = Int(totalSeconds.rounded(.up)) + 2
        counts = .allocate(capacity: 3 * seconds)
        counts.initialize(repeating: 0, count: 3 * seconds)
        self.startNanos = startNanos
    }

    deinit { counts.deallocate() }

    var sent: [UInt64] { Array(UnsafeBufferPointer(start: counts, count: seconds)) }
    var received: [UInt64] { Array(UnsafeBufferPointer(start: counts + seconds, count: seconds)) }
    var answered: [UInt64] { Array(UnsafeBufferPointer(start: counts + 2 * seconds, count: seconds)) }

    @inline(__always)
    func second(_ nanos: UInt64) -> Int {
        min(seconds - 1, Int((nanos &- startNanos) / 1_000_000_000))
    }

    @inline(__always) func addSent(_ n: Int, at now: UInt64) { counts[second(now)] &+= UInt64(n) }
    @inline(__always) func addReceived(_ n: Int, at now: UInt64) { counts[seconds + second(now)] &+= UInt64(n) }
    @inline(__always) func addAnswered(sentAt: UInt64) {
        guard sentAt >= startNanos else { return }
        counts[2 * seconds + second(sentAt)] &+= 1
    }
}

/// A job ends a fraction of a millisecond after its last whole second: a sliver that short joins
/// the second before it, rather than becoming an almost empty last second (which every rate chart
/// drew as a cliff to zero).
let trailingSliverSeconds = 0.05

extension Array where Element == WorkerTimeline {
    /// Sums the workers' seconds into result entries up to `elapsed`. The last entry also takes any
    /// counts after it, so the entries always add up to the job's totals.
    func merged(elapsed: Double, mode: JobSpec.Mode, latency: [Int: (p50: UInt64, p99: UInt64)]) -> [TimelineEntry] {
        guard let first else { return [] }
        var count = Swift.min(first.seconds, Int(elapsed.rounded(.up)))
        if count >= 2, elapsed - Double(count - 1) < trailingSliverSeconds { count -= 1 }
        // Each worker's columns copied out once (they are computed from raw memory).
        let (sentColumns, receivedColumns) = (map(\.sent), map(\.received))
        let answeredColumns = mode == .echo ? map(\.answered) : []
        return (0..<count).map { s in
            let last = s == count - 1
            let range = last ? s..<first.seconds : s..<(s + 1)
            let sum = { (columns: [[UInt64]]) in
                columns.reduce(UInt64(0)) { total, column in column[range].reduce(total, &+) }
            }
            let sent = sum(sentColumns)
            let received = sum(receivedColumns)
            let span = last ? elapsed - Double(s) : 1
            let counted = mode.originates ? sent : received
            var entry = TimelineEntry(t: s, sent: sent, received: received,
                                      achievedPPS: span > 0 ? Double(counted) / span : 0)
            if mode == .echo {
                let answered = sum(answeredColumns)
                entry.lost = sent - Swift.min(sent, answered)
                entry.rttP50 = latency[s]?.p50
                entry.rttP99 = latency[s]?.p99
            }
            return entry
        }
    }
}

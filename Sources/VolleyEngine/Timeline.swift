import VolleyModel

/// One worker's per-second counts, preallocated for the whole job; index = whole seconds since start.
final class WorkerTimeline {
    let seconds: Int
    private(set) var sent: [UInt64]
    private(set) var received: [UInt64]
    /// Echo: replies counted against the second their datagram was sent in (for per-second loss).
    private(set) var answered: [UInt64]
    let startNanos: UInt64

    init(totalSeconds: Double, startNanos: UInt64) {
        seconds = Int(totalSeconds.rounded(.up)) + 2
        sent = [UInt64](repeating: 0, count: seconds)
        received = [UInt64](repeating: 0, count: seconds)
        answered = [UInt64](repeating: 0, count: seconds)
        self.startNanos = startNanos
    }

    @inline(__always)
    func second(_ nanos: UInt64) -> Int {
        min(seconds - 1, Int((nanos &- startNanos) / 1_000_000_000))
    }

    @inline(__always) func addSent(_ n: Int, at now: UInt64) { sent[second(now)] &+= UInt64(n) }
    @inline(__always) func addReceived(_ n: Int, at now: UInt64) { received[second(now)] &+= UInt64(n) }
    @inline(__always) func addAnswered(sentAt: UInt64) {
        guard sentAt >= startNanos else { return }
        answered[second(sentAt)] &+= 1
    }
}

extension Array where Element == WorkerTimeline {
    /// Sums the workers' seconds into result entries up to `elapsed`.
    func merged(elapsed: Double, mode: JobSpec.Mode, latency: [Int: (p50: UInt64, p99: UInt64)]) -> [TimelineEntry] {
        guard let first else { return [] }
        let count = Swift.min(first.seconds, Int(elapsed.rounded(.up)))
        return (0..<count).map { s in
            let sent = reduce(0) { $0 + $1.sent[s] }
            let received = reduce(0) { $0 + $1.received[s] }
            let span = Swift.min(1, elapsed - Double(s))
            let counted = mode.originates ? sent : received
            var entry = TimelineEntry(t: s, sent: sent, received: received,
                                      achievedPPS: span > 0 ? Double(counted) / span : 0)
            if mode == .echo {
                let answered = reduce(0) { $0 + $1.answered[s] }
                entry.lost = sent - Swift.min(sent, answered)
                entry.rttP50 = latency[s]?.p50
                entry.rttP99 = latency[s]?.p99
            }
            return entry
        }
    }
}

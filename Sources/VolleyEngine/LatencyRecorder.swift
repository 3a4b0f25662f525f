import Histogram
import Synchronization
import VolleyModel

/// Round-trip times of a whole job: each worker records into its own histograms (no lock per
/// packet) and hands its per-second histogram to this collector once a second, where seconds are
/// merged across workers and reduced to p50/p99 as soon as every worker has reported them.
final class LatencyCollector: Sendable {
    private struct State {
        var pending: [Int: (histogram: Histogram<UInt64>?, reports: Int)] = [:]
        var perSecond: [Int: (p50: UInt64, p99: UInt64)] = [:]
        var latest: LiveRTT?
        var total = LatencySummary.makeHistogram()
    }

    private let workers: Int
    private let state = Locked(State())

    init(workers: Int) { self.workers = workers }

    /// A worker's histogram for `second` (empty ones count as reports too).
    func report(second: Int, _ histogram: Histogram<UInt64>) {
        state.withLock { s in
            var entry = s.pending[second] ?? (nil, 0)
            if histogram.totalCount > 0 {
                // The first is adopted as it is (the worker starts its next second with a new one).
                if entry.histogram == nil { entry.histogram = histogram } else { entry.histogram!.add(histogram) }
            }
            entry.reports += 1
            s.pending[second] = entry
            if entry.reports == workers { Self.settle(second, &s) }
        }
    }

    /// Reduces one second to its percentiles and drops its histogram.
    private static func settle(_ second: Int, _ s: inout State) {
        if let histogram = s.pending[second]?.histogram, histogram.totalCount > 0 {
            let p50 = histogram.valueAtPercentile(50), p99 = histogram.valueAtPercentile(99)
            s.perSecond[second] = (p50, p99)
            if second >= (s.latest?.second ?? -1) { s.latest = LiveRTT(second: second, p50: p50, p99: p99) }
        }
        s.pending[second] = nil
    }

    /// At the end: settles the seconds that not every worker lived to report.
    func flush() {
        state.withLock { s in
            for second in Array(s.pending.keys) { Self.settle(second, &s) }
        }
    }

    /// A worker's whole-job histogram, at its end.
    func finish(_ histogram: Histogram<UInt64>) {
        state.withLock { $0.total.add(histogram) }
    }

    var perSecond: [Int: (p50: UInt64, p99: UInt64)] {
        flush()
        return state.withLock { $0.perSecond }
    }
    /// The newest second every worker has reported, for progress while the job runs.
    var latest: LiveRTT? { state.withLock { $0.latest } }
    var summary: LatencySummary { state.withLock { LatencySummary($0.total) } }
}

/// One worker's side: the whole-job histogram, preallocated, and the current second's.
///
/// At each new second the worker hands its histogram to the collector and starts again from
/// `empty`, whose buffer the new second shares until its first record copies it: one allocation
/// and a `memcpy` a second. Zeroing the old one in place went through the library's unspecialized
/// `reset()`, count by count, and the collector allocated and zeroed one more to merge into: about
/// 2 million instructions once a second on the worker's thread, now about 0.16 million
/// (callgrind, Benchmarks/README.md, "The per-second roll-over").
struct LatencyRecorder {
    private var total = LatencySummary.makeHistogram()
    private let empty = LatencySummary.makeHistogram()
    private var interval: Histogram<UInt64>
    private var currentSecond = 0
    private let collector: LatencyCollector

    init(collector: LatencyCollector) {
        self.collector = collector
        interval = empty
    }

    /// Records one RTT observed during `second` of the job.
    @inline(__always)
    mutating func record(micros: UInt64, second: Int) {
        if second != currentSecond { advance(to: second) }
        total.record(Swift.min(micros, 60_000_000))
        interval.record(Swift.min(micros, 60_000_000))
    }

    /// Hands over every finished second up to (not including) `second`.
    mutating func advance(to second: Int) {
        while currentSecond < second {
            collector.report(second: currentSecond, interval)
            if interval.totalCount > 0 { interval = empty }
            currentSecond += 1
        }
    }

    /// Reports the seconds up to and including `lastSecond`, and the whole-job histogram.
    mutating func finish(lastSecond: Int) {
        advance(to: lastSecond + 1)
        collector.finish(total)
    }
}

import Histogram
import Testing
@testable import VolleyEngine
import VolleyModel

/// The per-second RTT percentiles (the timeline's `rtt_p50_us`/`rtt_p99_us`) and the whole-job
/// summary, merged across workers: each second holds exactly what was recorded in it.
@Suite struct LatencyRecorderTests {
    @Test func eachSecondHoldsOnlyItsOwnRecordsAcrossWorkers() {
        let collector = LatencyCollector(workers: 2)
        var a = LatencyRecorder(collector: collector), b = LatencyRecorder(collector: collector)
        // Second 0: a records 1…100, b 1,000 × 50. Second 1: a records 7 × 10 only. Second 2: nothing
        // from a, b records 300 × 4. Second 3: a records 5 after an empty second.
        for v in UInt64(1)...100 { a.record(micros: v, second: 0) }
        for _ in 0..<50 { b.record(micros: 1_000, second: 0) }
        for _ in 0..<10 { a.record(micros: 7, second: 1) }
        for _ in 0..<4 { b.record(micros: 300, second: 2) }
        a.record(micros: 5, second: 3)
        a.finish(lastSecond: 3)
        b.finish(lastSecond: 3)

        var second0 = LatencySummary.makeHistogram()
        for v in UInt64(1)...100 { second0.record(v) }
        for _ in 0..<50 { second0.record(1_000) }
        let perSecond = collector.perSecond
        #expect(perSecond.keys.sorted() == [0, 1, 2, 3])
        #expect(perSecond[0]?.p50 == second0.valueAtPercentile(50))
        #expect(perSecond[0]?.p99 == 1_000)
        #expect(perSecond[1]?.p50 == 7 && perSecond[1]?.p99 == 7)  // nothing of second 0 left over
        #expect(perSecond[2]?.p50 == 300 && perSecond[2]?.p99 == 300)
        #expect(perSecond[3]?.p50 == 5 && perSecond[3]?.p99 == 5)

        let summary = collector.summary
        #expect(summary.count == 165)
        #expect(summary.min == 1 && summary.max == 1_000)
    }

    @Test func aSecondsHistogramIsNotChangedByTheNextSecondsRecords() {
        // The collector keeps the histogram a worker hands over; the worker's next second must not
        // write into it (they share a buffer until the worker's first record of the new second).
        let collector = LatencyCollector(workers: 1)
        var recorder = LatencyRecorder(collector: collector)
        for _ in 0..<10 { recorder.record(micros: 20, second: 0) }
        for _ in 0..<1_000 { recorder.record(micros: 9_000, second: 1) }
        #expect(collector.latest?.second == 0)
        #expect(collector.latest?.p99 == 20)
        recorder.finish(lastSecond: 1)
        #expect(collector.perSecond[0]?.p99 == 20)
        var second1 = LatencySummary.makeHistogram()
        second1.record(9_000)
        #expect(collector.perSecond[1]?.p50 == second1.valueAtPercentile(50))
    }
}

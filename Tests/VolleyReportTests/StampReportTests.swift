import Foundation
import Testing
@testable import VolleyModel
@testable import VolleyReport

/// A latency summary of `n` samples of each value, for STAMP sections with known percentiles.
func summary(_ values: [UInt64]) -> LatencySummary {
    var h = LatencySummary.makeHistogram()
    for v in values { h.record(v) }
    return LatencySummary(h)
}

/// `sampleResult()` as a STAMP echo job to a stateful reflector on this host.
func stampEchoResult(oneWay: Bool = true, loss: StampLoss? = nil) -> JobResult {
    var r = sampleResult()
    r.spec.echoProtocol = .stamp
    r.spec.stateful = true
    r.echo?.late = 5
    r.stamp = StampEchoReport(
        ssid: 4242, timestampFormat: .ntp, reflectorTimestampFormat: "ptp", senderClockSynchronized: false,
        reflectorClockSynchronized: false, sharedClock: oneWay, oneWayValid: oneWay,
        oneWayNote: oneWay ? "the reflector is on this host: both directions are timed by one clock"
                           : "this host's clock is not synchronized to an external source (adjtimex), so one-way delays would be clock offset",
        turnaroundUs: summary(Array(repeating: 7, count: 99) + [300]),
        forwardUs: oneWay ? summary(Array(repeating: 21, count: 100)) : nil,
        backwardUs: oneWay ? summary(Array(repeating: 33, count: 100)) : nil,
        negativeOneWay: 0, turnaroundOverRTT: 2,
        loss: loss ?? StampLoss(attributed: true, forward: 30, backward: 10, unknown: 5))
    return r
}

@Suite struct StampReportTests {
    @Test func echoSectionShowsTurnaroundOneWayAndLossByDirection() {
        let html = Report.html(for: stampEchoResult())
        #expect(html.contains("<h2>STAMP (RFC 8762)</h2>"))
        #expect(html.contains("<tr><td>turnaround T3 − T2</td><td>100</td><td>7</td><td>7</td><td>7</td><td>7</td><td>300</td><td>300</td></tr>"))
        #expect(html.contains("<tr><td>forward T2 − T1</td><td>100</td><td>21</td><td>21</td>"))
        #expect(html.contains("<tr><td>backward T4 − T3</td><td>100</td><td>33</td><td>33</td>"))
        #expect(html.contains("valid: the reflector is on this host"))
        // forward + backward + late + unknown = lost (30 + 10 + 5 + 5 = 50)
        #expect(html.contains("forward 30, backward 10, late 5, unknown 5 (of 50 lost)"))
        #expect(html.contains("this side ntp, reflector ptp"))
        #expect(html.contains("this side no, reflector no; both on this host (one clock)"))
        #expect(html.contains("2 STAMP replies had a turnaround longer than their round trip"))
        #expect(html.contains("<th>SSID</th><td>4242</td>"))
    }

    @Test func invalidOneWayAndUnattributedLossSayWhy() {
        let note = "only round-trip loss is known: the spec does not say the reflector is stateful (\"stateful\": true)"
        let html = Report.html(for: stampEchoResult(oneWay: false, loss: StampLoss(attributed: false, note: note)))
        #expect(html.contains("turnaround T3 − T2"))
        #expect(!html.contains("forward T2 − T1") && !html.contains("backward T4 − T3"))
        #expect(html.contains("not shown: this host&#39;s clock is not synchronized"))
        #expect(html.contains("not split: only round-trip loss is known: the spec does not say the reflector is stateful (&quot;stateful&quot;: true)"))
    }

    @Test func volleyEchoHasNoStampSection() {
        let html = Report.html(for: sampleResult())
        #expect(!html.contains("STAMP"))
    }

    @Test func reflectSectionShowsSessionsTimestampSourcesAndTLVs() {
        var r = sampleResult()
        r.spec = JobSpec(mode: .reflect, listen: Endpoint(address: IPAddress("127.0.0.1")!, port: 862), durationSeconds: 5)
        r.spec.echoProtocol = .stamp
        r.spec.stateful = true
        r.echo = nil
        r.latency = nil
        var reflect = ReflectTotals()
        reflect.refusedSessions = 12
        var stamp = StampReflectTotals(stateful: true, timestampFormat: .ptp, clockSynchronized: true)
        stamp.sessions = 3
        stamp.sessionLimit = 4096
        stamp.sessionsEvicted = 1
        stamp.kernelReceiveTimestamps = 4_900
        stamp.appReceiveTimestamps = 53
        stamp.tlvsUnrecognized = 2
        stamp.tlvsMalformed = 1
        reflect.stamp = stamp
        r.reflect = reflect
        let html = Report.html(for: r)
        #expect(html.contains("<h2>STAMP reflector (RFC 8762)</h2>"))
        #expect(html.contains("<th>reflector</th><td>stateful (per-session sequence numbers)</td>"))
        #expect(html.contains("<th>timestamps</th><td>ptp, clock synchronized (S bit set)</td>"))
        #expect(html.contains("<th>T2 source</th><td>kernel receive timestamp 4,900, application clock 53</td>"))
        #expect(html.contains("<th>TLVs</th><td>unrecognized 2 (U flag), malformed 1 (M flag)</td>"))
        #expect(html.contains("<th>sessions</th><td>3 tracked of 4,096 per thread, 1 evicted idle, 12 datagrams refused (table full)</td>"))
        #expect(html.contains("12 STAMP datagrams of new sessions refused"))
    }
}

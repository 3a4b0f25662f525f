import Foundation
import Histogram
import Testing
import VolleyTestSupport
@testable import VolleyModel
@testable import VolleyReport

/// A finished echo job with a five-second timeline and a known latency histogram.
func sampleResult(tags: [String: String] = ["team": "dns"], seconds: Int = 5) -> JobResult {
    var histogram = LatencySummary.makeHistogram()
    for v in 1...1_000 { histogram.record(UInt64(10 + v % 90)) }
    histogram.record(5_000)
    let spec = JobSpec(mode: .echo, target: Endpoint(address: IPAddress("127.0.0.1")!, port: 9), durationSeconds: Double(seconds),
                       ratePPS: 1_000, tags: tags)
    let timeline = (0..<seconds).map { t in
        TimelineEntry(t: t, sent: 1_000, received: 990, achievedPPS: 1_000, lost: 10, rttP50: 40 + UInt64(t), rttP99: 90)
    }
    var echo = EchoTotals()
    echo.sent = 5_000
    echo.received = 4_950
    echo.lost = 50
    echo.duplicates = 3
    echo.reordered = 7
    return JobResult(id: JobID("jreport")!, state: .completed, spec: spec, agent: .init(hostname: "host-a", version: "0.1.0"),
                     startedAt: Timestamp(millisecondsSince1970: 1_800_000_000_000),
                     finishedAt: Timestamp(millisecondsSince1970: 1_800_000_005_500), elapsedSeconds: 5.5,
                     sent: DirectionTotals(packets: 5_000, bytes: 320_000, syscalls: 5_000, partialBatches: 0),
                     received: DirectionTotals(packets: 4_953, bytes: 316_992, syscalls: 4_000, errors: ["connection_refused": 2]),
                     rate: .init(targetPPS: 1_000, achievedPPS: 1_000, achievedBPS: 512_000),
                     io: .init(send: "sendmmsg", receive: "recvmmsg"), echo: echo, latency: LatencySummary(histogram),
                     timeline: timeline)
}

/// Polyline point lists in an SVG/HTML string, by series name.
func polylines(_ html: String) -> [String: Int] {
    var out: [String: Int] = [:]
    var rest = html[...]
    while let start = rest.range(of: "<polyline") {
        let tagEnd = rest[start.upperBound...].firstIndex(of: ">")!
        let tag = rest[start.lowerBound..<tagEnd]
        let name = tag.range(of: #"data-name="([^"]*)""#, options: .regularExpression).map { String(tag[$0].dropFirst(11).dropLast()) } ?? "?"
        let points = tag.range(of: #"points="[^"]*""#, options: .regularExpression).map { tag[$0].split(separator: " ").count } ?? 0
        out[name, default: 0] += points
        rest = rest[tagEnd...]
    }
    return out
}

@Suite struct ReportTests {
    @Test func rateChartHasAPointPerSecondAndLabelledAxes() {
        let result = sampleResult()
        let svg = Charts.rate(result.timeline, target: { _ in 1_000 })
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        #expect(polylines(svg) == ["achieved": 5, "target": 5])
        #expect(svg.contains(">seconds<") && svg.contains(">datagrams/s<") && svg.contains(">Rate per second<"))
        #expect(svg.contains(">1k<"))  // a y tick at 1000, written short
    }

    @Test func reportShowsTotalsChartsAndTheSpectrum() {
        let html = Report.html(for: sampleResult())
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for exact in ["5,000", "4,953", "320,000", "connection_refused 2", "lost 50, duplicates 3", "reordered 7, late 0", "host-a"] {
            #expect(html.contains(exact), "\(exact)")
        }
        let lines = polylines(html)
        #expect(lines["sent"] == 5 && lines["received"] == 5 && lines["lost"] == 5)
        #expect(lines["p50"] == 5 && lines["p99"] == 5)
        #expect(lines["RTT"] == Charts.spectrumPercentiles().count)
        for label in ["90%", "99%", "99.9%", "99.99%", "99.999%"] { #expect(html.contains(">\(label)<")) }
        #expect(html.contains("50 of 5,000 datagrams got no reply in time"))
        #expect(html.contains("1,000 datagrams/s (512 kbit/s) achieved"))
        #expect(html.contains("2 failed calls: connection_refused"))
    }

    @Test func reportsAreSelfContained() {
        let html = Report.html(for: sampleResult())
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("@import"))
        #expect(!html.contains("http://") || !html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"))
        #expect(html.contains("Content-Security-Policy"))
    }

    @Test func hostileTagsAreEscaped() {
        let hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
        let html = Report.html(for: sampleResult(tags: [hostile: hostile, "note": "\"><svg onload=alert(2)>"]))
        #expect(!html.contains("<script") && !html.contains("<img") && !html.contains("<svg onload"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
    }

    @Test func fleetReportDrawsALinePerAgentAndTheMergedTotal() throws {
        let one = sampleResult()
        var fleet = FleetResult(fleetID: "f1", spec: one.spec, startAt: one.startedAt,
                                agents: ["http://a:8080", "http://b:8080", "http://c:8080"].map { FleetAgentOutcome(url: $0) })
        for i in 0..<2 {
            fleet.agents[i].state = "completed"
            fleet.agents[i].timeline = one.timeline
        }
        fleet.agents[2].error = "cannot reach the agent at http://c:8080"
        fleet.merged = one
        fleet.startSkewMs = 1.5
        let html = Report.html(for: fleet)
        let lines = polylines(html)
        #expect(lines["merged"] == 5 && lines["http://a:8080"] == 5 && lines["http://b:8080"] == 5)
        #expect(html.contains("http://c:8080: cannot reach the agent"))
        #expect(html.contains("1.5 ms"))
    }

    @Test func emptyAndOddTimelinesDoNotBreakCharts() {
        #expect(Charts.counts([]).hasSuffix("</svg>"))
        let flat = [TimelineEntry(t: 0, sent: 0, received: 0, achievedPPS: 0)]
        #expect(Charts.rate(flat, target: { _ in nil }).hasSuffix("</svg>"))
        let odd = [TimelineEntry(t: 0, sent: 1, received: 1, achievedPPS: .nan), TimelineEntry(t: 1, sent: 1, received: 1, achievedPPS: .infinity)]
        #expect(Charts.rate(odd, target: { _ in 5 }).hasSuffix("</svg>"))
    }
}

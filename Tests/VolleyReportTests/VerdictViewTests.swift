import Foundation
import Testing
@testable import VolleyModel
@testable import VolleyReport

/// The verdict block at the top of a report, and rows a mode never fills left out.
@Suite struct VerdictViewTests {
    static func check(_ metric: Thresholds.Metric, max: Double, value: Double, _ severity: Verdict.Severity) -> Verdict.Check {
        Verdict.Check(metric: metric, bound: .init(max: max), value: value, severity: severity)
    }

    /// The `<section class="verdict …">` block and its headline.
    static func block(_ html: String) -> (cssClass: String, headline: String)? {
        guard let r = html.range(of: #"<section class="verdict [a-z]+"><h2>[^<]*"#, options: .regularExpression) else { return nil }
        let text = html[r]
        let cls = text.dropFirst(#"<section class="verdict "#.count).prefix { $0 != "\"" }
        return (String(cls), String(text.components(separatedBy: "<h2>")[1]))
    }

    @Test func failedThresholdIsRedAndListedFirst() throws {
        var result = sampleResult()
        result.verdict = Verdict(checks: [Self.check(.rttP99, max: 1_000, value: 90, .threshold),
                                          Self.check(.lossRatio, max: 0.001, value: 0.01, .threshold)])
        let html = Report.html(for: result)
        let block = try #require(Self.block(html))
        #expect(block.cssClass == "failed" && block.headline == "Failed: 1 of 2 thresholds not met")
        #expect(html.contains(#"<li class="fail">✗ loss_ratio 0.01 is above max 0.001</li><li class="pass">✓ rtt_us.p99 90 is within max 1000</li>"#))
        #expect(html.range(of: "class=\"verdict")!.lowerBound < html.range(of: "<h2>What went wrong")!.lowerBound)
        #expect(!html.contains("No thresholds set"))
    }

    @Test func warningsAloneAreAmberAndSayNoThresholdsWereSet() throws {
        var result = sampleResult()
        result.verdict = Verdict(checks: [Self.check(.lossRatio, max: 0.5, value: 0.7, .warning)])
        let html = Report.html(for: result)
        let block = try #require(Self.block(html))
        #expect(block.cssClass == "warnings" && block.headline == "Passed, with 1 warning")
        #expect(html.contains("No thresholds set"))
        #expect(html.contains(#"<li class="warn">⚠ warning: loss_ratio 0.7 is above max 0.5"#))
        #expect(!html.contains(#"class="fail""#))
    }

    @Test func passedIsGreenAndNoVerdictIsSaid() throws {
        var result = sampleResult()
        result.verdict = Verdict(checks: [Self.check(.rttP99, max: 1_000, value: 90, .threshold)])
        #expect(Self.block(Report.html(for: result))?.cssClass == "passed")
        #expect(Self.block(Report.html(for: result))?.headline == "Passed")
        result.verdict = nil
        #expect(Self.block(Report.html(for: result))?.cssClass == "none")
        #expect(VerdictView.state(nil).word == "—")
    }

    /// A send job never receives: no "received 0" row, no received line in the chart. A sink never sends.
    @Test func directionsAModeNeverUsesAreLeftOut() {
        var result = sampleResult()
        result.spec.mode = .send
        result.echo = nil
        result.latency = nil
        result.received = DirectionTotals()
        let html = Report.html(for: result)
        #expect(html.contains("<tr><td>sent</td><td>5,000</td>") && !html.contains("<tr><td>received</td>"))
        #expect(polylines(html)["received"] == nil && polylines(html)["sent"] == 5)
        result.spec.mode = .sink
        result.sent = DirectionTotals()
        result.received = DirectionTotals(packets: 7, bytes: 700, syscalls: 7)
        let sink = Report.html(for: result)
        #expect(sink.contains("<tr><td>received</td><td>7</td>") && !sink.contains("<tr><td>sent</td>"))
    }
}

/// The home page renderer alone: the note when the agent holds more jobs than it lists.
@Suite struct HomePageRenderTests {
    @Test func saysWhenMoreJobsExistThanItShows() {
        let spec = JobSpec(mode: .send, target: Endpoint(address: IPAddress("127.0.0.1")!, port: 9), durationSeconds: 1, ratePPS: 10)
        let jobs = (0..<3).map { Job(id: JobID("j\($0)")!, state: .completed, spec: spec, createdAt: Timestamp()) }
        let agent = HomePage.AgentSummary(hostname: "<b>host</b>", version: "0.1.0", capabilities: [("sendmmsg", true)],
                                          budget: nil, store: StoreInfo(quarantined: []))
        let html = HomePage.html(jobs: jobs, total: 1_234, agent: agent)
        #expect(html.contains("Showing the newest 3 of 1,234 jobs"))
        #expect(html.contains("&lt;b&gt;host&lt;/b&gt;") && !html.contains("<b>host"))
        #expect(!HomePage.html(jobs: jobs, total: 3, agent: agent).contains("Showing the newest"))
    }
}

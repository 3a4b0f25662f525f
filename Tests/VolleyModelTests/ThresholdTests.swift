import Foundation
import Histogram
import Testing
@testable import VolleyModel

private func spec(_ json: String) throws -> JobSpec { try JobSpec.decode(json: Data(json.utf8)) }

private func refusal(_ json: String) -> SpecError? {
    do throws(SpecError) {
        _ = try JobSpec.decode(json: Data(json.utf8))
        return nil
    } catch {
        return error
    }
}

/// An echo result with chosen counts and RTTs (µs), as the agent would write it.
private func echoResult(_ thresholds: String, sent: UInt64 = 1000, received: UInt64 = 1000, rtts: [UInt64] = [100],
                        achievedPPS: Double = 1000, duplicates: UInt64 = 0, reordered: UInt64 = 0,
                        sendErrors: [String: UInt64] = [:]) throws -> JobResult {
    let s = try spec(#"{"mode":"echo","target":"127.0.0.1:9","rate_pps":1000,"thresholds":\#(thresholds)}"#)
    var echo = EchoTotals()
    echo.sent = sent
    echo.received = received
    echo.lost = sent - received
    echo.duplicates = duplicates
    echo.reordered = reordered
    var h = LatencySummary.makeHistogram()
    for v in rtts { h.record(v) }
    var r = JobResult(id: JobID("jt")!, state: .completed, spec: s, agent: .init(hostname: "h", version: "t"),
                      startedAt: Timestamp(), finishedAt: Timestamp(), elapsedSeconds: 1,
                      sent: .init(packets: sent, bytes: sent * 64, errors: sendErrors),
                      received: .init(packets: received, bytes: received * 64),
                      rate: .init(targetPPS: 1000, achievedPPS: achievedPPS, achievedBPS: achievedPPS * 512),
                      io: .init(send: "sendmmsg", receive: "recvmmsg"), echo: echo,
                      latency: rtts.isEmpty ? nil : LatencySummary(h))
    r.verdict = Verdict.evaluate(r)
    return r
}

private func check(_ r: JobResult, _ metric: Thresholds.Metric) -> Verdict.Check? {
    r.verdict?.checks.first { $0.metric == metric && $0.severity == .threshold }
}

@Suite struct ThresholdTests {
    @Test func theIssuesExampleDecodesAndRoundTrips() throws {
        let s = try spec(#"{"mode":"echo","target":"127.0.0.1:9","thresholds":{"loss_ratio":{"max":0.001},"rtt_us.p99":{"max":500},"rate_ratio":{"min":0.99},"errors":{"max":0}}}"#)
        #expect(s.thresholds?.bounds[.rttP99] == .init(max: 500))
        #expect(s.thresholds?.bounds[.rateRatio] == .init(min: 0.99))
        let again = try JobSpec.decode(json: try VolleyJSON.encode(s))
        #expect(again == s)
    }

    @Test(arguments: [
        (#"{"rtt_us":{"max":5}}"#, "thresholds.rtt_us", "rtt_us.p99"),
        (#"{"loss":{"max":5}}"#, "thresholds.loss", "unknown threshold"),
        (#"{"rtt_us.p99":5}"#, "thresholds.rtt_us.p99", "must be an object"),
        (#"{"rtt_us.p99":{}}"#, "thresholds.rtt_us.p99", "needs \"min\", \"max\""),
        (#"{"rtt_us.p99":{"below":5}}"#, "thresholds.rtt_us.p99.below", "use min and/or max"),
        (#"{"rtt_us.p99":{"max":"5"}}"#, "thresholds.rtt_us.p99.max", "must be a number"),
        (#"{"rtt_us.p99":{"max":-1}}"#, "thresholds.rtt_us.p99.max", "0 or more"),
        (#"{"loss_ratio":{"max":5}}"#, "thresholds.loss_ratio.max", "ratio from 0 to 1"),
        (#"{"rtt_us.p99":{"min":9,"max":5}}"#, "thresholds.rtt_us.p99", "no value could pass"),
        (#"[1]"#, "thresholds", "an object"),
    ])
    func badThresholdsNameTheirField(bounds: String, field: String, words: String) {
        let error = refusal(#"{"mode":"echo","target":"127.0.0.1:9","thresholds":\#(bounds)}"#)
        #expect(error?.field == field)
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "accepted")")
    }

    @Test func metricsThatAJobDoesNotMeasureAreRefused() {
        let rtt = refusal(#"{"mode":"send","target":"127.0.0.1:9","thresholds":{"rtt_us.p99":{"max":5}}}"#)
        #expect(rtt?.field == "thresholds.rtt_us.p99")
        #expect(rtt?.message.contains("echo jobs") == true)
        let rate = refusal(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":"max","thresholds":{"rate_ratio":{"min":0.9}}}"#)
        #expect(rate?.field == "thresholds.rate_ratio")
        let sinkRate = refusal(#"{"mode":"sink","listen":"127.0.0.1:9","thresholds":{"rate_ratio":{"min":0.9}}}"#)
        #expect(sinkRate?.field == "thresholds.rate_ratio")
        #expect(refusal(#"{"mode":"sink","listen":"127.0.0.1:9","thresholds":{"loss_ratio":{"max":0},"received":{"min":10}}}"#) == nil)
    }

    @Test func lossRatioPassesAndFails() throws {
        #expect(check(try echoResult(#"{"loss_ratio":{"max":0.01}}"#, sent: 1000, received: 990), .lossRatio)?.passed == true)
        let failed = try echoResult(#"{"loss_ratio":{"max":0.001}}"#, sent: 1000, received: 990)
        #expect(check(failed, .lossRatio)?.passed == false)
        #expect(check(failed, .lossRatio)?.value == 0.01)
        #expect(failed.verdict?.passed == false)
        #expect(check(failed, .lossRatio)?.message == "loss_ratio 0.01 is above max 0.001")
    }

    @Test(arguments: [(Thresholds.Metric.rttP50, 500), (.rttP90, 900), (.rttP99, 990), (.rttP999, 999), (.rttMax, 1000)])
    func everyPercentilePassesAndFails(metric: Thresholds.Metric, expected: Int) throws {
        let rtts = (1...1000).map(UInt64.init)  // exact below 2048 at 3 significant digits
        let at = try echoResult(#"{"\#(metric.rawValue)":{"max":\#(expected)}}"#, rtts: rtts)
        #expect(check(at, metric)?.value == Double(expected))
        #expect(check(at, metric)?.passed == true)
        let below = try echoResult(#"{"\#(metric.rawValue)":{"max":\#(expected - 1)}}"#, rtts: rtts)
        #expect(check(below, metric)?.passed == false)
        let floor = try echoResult(#"{"\#(metric.rawValue)":{"min":\#(expected + 1)}}"#, rtts: rtts)
        #expect(check(floor, metric)?.passed == false)
    }

    @Test func noRepliesFailAnRTTThresholdWithNothingMeasured() throws {
        let r = try echoResult(#"{"rtt_us.p99":{"max":500}}"#, sent: 1000, received: 0, rtts: [])
        let c = try #require(check(r, .rttP99))
        #expect(c.value == nil)
        #expect(c.passed == false)
        #expect(c.message.contains("no reply came back"))
        #expect(r.verdict?.passed == false)
    }

    @Test func rateRatioPassesAndFails() throws {
        #expect(check(try echoResult(#"{"rate_ratio":{"min":0.99}}"#, achievedPPS: 995), .rateRatio)?.passed == true)
        let slow = try echoResult(#"{"rate_ratio":{"min":0.99}}"#, achievedPPS: 308)
        #expect(check(slow, .rateRatio)?.passed == false)
        #expect(check(slow, .rateRatio)?.value == 0.308)
    }

    @Test func countsPassAndFail() throws {
        let errors = ["connection_refused": UInt64(2999)]
        #expect(check(try echoResult(#"{"errors":{"max":0}}"#, sendErrors: errors), .errors)?.value == 2999)
        #expect(check(try echoResult(#"{"errors":{"max":0}}"#, sendErrors: errors), .errors)?.passed == false)
        #expect(check(try echoResult(#"{"errors":{"max":0}}"#), .errors)?.passed == true)
        #expect(check(try echoResult(#"{"duplicates":{"max":0}}"#, duplicates: 3), .duplicates)?.passed == false)
        #expect(check(try echoResult(#"{"duplicates":{"max":3}}"#, duplicates: 3), .duplicates)?.passed == true)
        #expect(check(try echoResult(#"{"reordered":{"max":0}}"#, reordered: 1), .reordered)?.passed == false)
        #expect(check(try echoResult(#"{"reordered":{"max":1}}"#, reordered: 1), .reordered)?.passed == true)
        #expect(check(try echoResult(#"{"sent":{"min":1001}}"#), .sent)?.passed == false)
        #expect(check(try echoResult(#"{"received":{"min":1000}}"#), .received)?.passed == true)
        let ratio = try echoResult(#"{"error_ratio":{"max":0.5}}"#, sent: 1, received: 1, sendErrors: errors)
        #expect(check(ratio, .errorRatio)?.passed == false)
        #expect(check(ratio, .errorRatio)?.value == 2999.0 / 3000.0)
    }

    @Test func withoutThresholdsDefaultChecksOnlyWarn() throws {
        let dead = try echoResult("{}", sent: 1000, received: 0, rtts: [], achievedPPS: 400,
                                  sendErrors: ["connection_refused": 2000])
        let verdict = try #require(dead.verdict)
        #expect(verdict.passed)  // warnings never fail a job on their own
        #expect(Set(verdict.warnings.map(\.metric)) == [.lossRatio, .rateRatio, .errorRatio])
        #expect(verdict.checks.allSatisfy { $0.severity == .warning })
        // A connected socket to a closed port fails about every other send (each ICMP error fails
        // the next call): 999 refused of 1,999 attempts must still warn.
        let refused = try echoResult("{}", sent: 1000, received: 1000, sendErrors: ["connection_refused": 999])
        #expect(refused.verdict?.warnings.map(\.metric) == [.errorRatio])
        let fine = try echoResult("{}")
        #expect(fine.verdict?.warnings.isEmpty == true)
        // A metric bounded by a threshold is checked once, as the threshold.
        let bounded = try echoResult(#"{"loss_ratio":{"max":1}}"#, sent: 1000, received: 0, rtts: [])
        #expect(bounded.verdict?.checks.filter { $0.metric == .lossRatio }.map(\.severity) == [.threshold])
    }

    @Test func sinkLossComesFromSequenceGaps() throws {
        let s = try spec(#"{"mode":"sink","listen":"127.0.0.1:9","thresholds":{"loss_ratio":{"max":0.05}}}"#)
        var r = JobResult(id: JobID("js")!, state: .completed, spec: s, agent: .init(hostname: "h", version: "t"),
                          startedAt: Timestamp(), finishedAt: Timestamp(), elapsedSeconds: 1,
                          sent: .init(), received: .init(packets: 90, bytes: 90),
                          rate: .init(targetPPS: 0, achievedPPS: 90, achievedBPS: 720),
                          io: .init(send: "none", receive: "recvmmsg"),
                          sequence: SequenceReport(senders: [SenderSequence(source: "a", jobTag: 1, flow: 0, unique: 90, duplicates: 0,
                                                                            reordered: 0, highestSeq: 99, tooOld: 0)],
                                                   unstamped: 0))
        r.verdict = Verdict.evaluate(r)
        #expect(check(r, .lossRatio)?.value == 0.1)
        #expect(r.verdict?.passed == false)
    }

    @Test func rateBPSBecomesADatagramRate() throws {
        let s = try spec(#"{"mode":"send","target":"127.0.0.1:9","rate_bps":50000000,"payload_bytes":1250}"#)
        #expect(s.ratePPS == 5000)
        #expect(s.rateBPS == 50_000_000)
        let imix = try spec(#"{"mode":"send","target":"127.0.0.1:9","rate_bps":8000,"sizes":[{"bytes":50,"weight":1},{"bytes":150,"weight":1}]}"#)
        #expect(imix.ratePPS == 10)
        #expect(try JobSpec.decode(json: try VolleyJSON.encode(s)) == s)
        #expect(refusal(#"{"mode":"send","target":"127.0.0.1:9","rate_bps":1,"rate_pps":1}"#)?.field == "rate_bps")
        #expect(refusal(#"{"mode":"send","target":"127.0.0.1:9","rate_bps":0}"#)?.field == "rate_bps")
        #expect(refusal(#"{"mode":"send","target":"127.0.0.1:9","rate_bps":800,"payload_bytes":0}"#)?.field == "rate_bps")
        #expect(refusal(#"{"mode":"sink","listen":"127.0.0.1:9","rate_bps":800}"#)?.field == "rate_bps")
        #expect(refusal(#"{"mode":"send","target":"127.0.0.1:9","rate_bps":1e15}"#)?.field == "rate_bps")
    }
}

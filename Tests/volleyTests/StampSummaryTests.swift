import Foundation
import Testing
import VolleyModel
import VolleyTestSupport
@testable import volley

/// STAMP in the CLI: the summary lines (golden text from fixed results), the quick flags, and
/// `volley pair --mode echo --protocol stamp` end to end on loopback.
@Suite(.serialized) struct StampSummaryTests {
    static func summary(_ values: [UInt64]) -> LatencySummary {
        var h = LatencySummary.makeHistogram()
        for v in values { h.record(v) }
        return LatencySummary(h)
    }

    /// `HumanOutputTests.echoResult()` as a STAMP echo job to a stateful reflector.
    static func stampEchoResult(oneWay: Bool, loss: StampLoss) throws -> JobResult {
        var r = try HumanOutputTests.echoResult()
        r.spec.echoProtocol = .stamp
        r.stamp = StampEchoReport(
            ssid: 7, timestampFormat: .ntp, reflectorTimestampFormat: "ntp", senderClockSynchronized: true,
            reflectorClockSynchronized: oneWay, sharedClock: false, oneWayValid: oneWay,
            oneWayNote: oneWay ? "both clocks said they were synchronized to an external source (S bit)"
                               : "9990 replies came from a reflector whose clock is not synchronized (S bit clear)",
            turnaroundUs: summary(Array(repeating: 4, count: 99) + [80]),
            forwardUs: oneWay ? summary(Array(repeating: 120, count: 100)) : nil,
            backwardUs: oneWay ? summary(Array(repeating: 140, count: 99) + [900]) : nil,
            negativeOneWay: 0, turnaroundOverRTT: 0, loss: loss)
        return r
    }

    @Test func aStampEchoSummaryShowsTurnaroundOneWayAndWhereLossHappened() throws {
        // forward + backward + late + unknown = lost: 4 + 2 + 3 + 1 = 10.
        let r = try Self.stampEchoResult(oneWay: true, loss: StampLoss(attributed: true, forward: 4, backward: 2, unknown: 1))
        #expect(Summary.counts(r) == [
            "  sent       10,000 datagrams  640,000 bytes  2.00 kpps  1.02 Mbit/s of 2.00 kpps asked",
            "  replies    9,990 of 10,000  lost 10 (0.10 %)  (late 3)",
            "  RTT        min 10  p50 500  p90 900  p99 990  p99.9 1000  max 1000 µs",
            "  turnaround p50 4  p99 4  max 80 µs (reflector T3 − T2, not in RTT)",
            "  one-way    forward p50 120 p99 120  backward p50 140 p99 140 µs",
            "  lost where forward 4  backward 2  late 3  unknown 1",
            "  errors     send: no_buffer 2",
        ])
    }

    @Test func withoutValidClocksOrAStatefulReflectorTheSummarySaysWhy() throws {
        let note = "only round-trip loss is known: the spec does not say the reflector is stateful (\"stateful\": true)"
        let r = try Self.stampEchoResult(oneWay: false, loss: StampLoss(attributed: false, note: note))
        let lines = Summary.counts(r)
        #expect(lines[4] == "  one-way    not valid: 9990 replies came from a reflector whose clock is not synchronized (S bit clear)")
        #expect(lines[5] == "  lost where not split: " + note)
        #expect(!(try Summary.counts(HumanOutputTests.echoResult())).contains { $0.contains("turnaround") })
    }

    @Test func aStampReflectSummaryShowsSessionsTimestampsAndTLVs() throws {
        let spec = try JobSpec.decode(json: Data(#"{"mode":"reflect","listen":"127.0.0.1","protocol":"stamp","stateful":true,"duration_s":5}"#.utf8))
        var reflect = ReflectTotals()
        reflect.refusedSessions = 6
        var stamp = StampReflectTotals(stateful: true, timestampFormat: .ntp, clockSynchronized: false)
        stamp.sessions = 2
        stamp.sessionLimit = 4096
        stamp.kernelReceiveTimestamps = 1_500
        stamp.appReceiveTimestamps = 2
        stamp.tlvsUnrecognized = 3
        reflect.stamp = stamp
        var r = JobResult(id: JobID("jrefl")!, state: .completed, spec: spec, agent: .init(hostname: "h", version: "t"),
                          startedAt: Timestamp(millisecondsSince1970: 0), finishedAt: Timestamp(millisecondsSince1970: 5_000),
                          elapsedSeconds: 5, sent: .init(packets: 1_502, bytes: 66_088), received: .init(packets: 1_508, bytes: 66_352),
                          rate: .init(targetPPS: 0, achievedPPS: 301.6, achievedBPS: 106_163),
                          io: .init(send: "sendmmsg", receive: "recvmmsg"))
        r.reflect = reflect
        #expect(Summary.text(r).hasPrefix("volley reflect on 127.0.0.1:862: completed after 5.00 s\n"))
        #expect(Summary.counts(r)[2] == "  STAMP      stateful, 2 sessions, ntp timestamps, clock not synchronized  T2 kernel 1,500 app 2"
                + "  (TLVs unrecognized 3, sessions refused 6)")
    }

    @Test func quickFlagsTakeTheProtocolForEchoAndReflectOnly() throws {
        let echo = try QuickFlags.parse(["--target", "127.0.0.1", "--protocol", "stamp", "--stateful"]).spec(mode: .echo)
        #expect(echo.echoProtocol == .stamp && echo.stateful && echo.target?.port == 862)
        let reflect = try QuickFlags.parse(["--listen", "127.0.0.1:8620", "--protocol", "stamp"]).spec(mode: .reflect)
        #expect(reflect.echoProtocol == .stamp && !reflect.stateful)
        for (arguments, message) in [(["run", "send", "--target", "127.0.0.1:9", "--protocol", "stamp"], "--protocol is for echo and reflect"),
                                     (["run", "echo", "--target", "127.0.0.1:9", "--stateful"], "invalid --stateful"),
                                     (["run", "echo", "--target", "127.0.0.1:9", "--protocol", "twamp"], "--protocol")] {
            let run = try runCommand(AgentProcess.binary, arguments)
            #expect(run.status == 2, "\(arguments): \(run.output)")
            #expect(run.output.contains(message), "\(arguments): \(run.output)")
        }
    }

    @Test func validateSaysAStampSpecSpeaksStamp() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/stamp-echo.json")
        let run = try runCommand(AgentProcess.binary, ["validate", example.path])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("  protocol  STAMP (RFC 8762) Session-Sender, ntp timestamps, stateful reflector: loss split by direction"),
                "\(run.output)")
    }

    @Test func pairEchoOverStampGetsEveryReplyAndSplitsNoLoss() throws {
        let run = try runCommand(AgentProcess.binary, ["pair", "--mode", "echo", "--protocol", "stamp", "--stateful", "--rate", "2k", "--time", "1s"])
        #expect(run.status == 0, "\(run.output)")
        let pair = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], "\(run.output)")
        let sender = try #require(pair["sender"] as? [String: Any])
        let echo = try #require(sender["echo"] as? [String: Any])
        #expect(echo["sent"] as? Int == 2_000 && echo["received"] as? Int == 2_000 && echo["lost"] as? Int == 0)
        let stamp = try #require(sender["stamp"] as? [String: Any])
        #expect(stamp["shared_clock"] as? Bool == true && stamp["one_way_valid"] as? Bool == true)
        #expect((stamp["turnaround_us"] as? [String: Any])?["count"] as? Int == 2_000)
        #expect((stamp["forward_us"] as? [String: Any])?["count"] as? Int == 2_000)
        let loss = try #require(stamp["loss"] as? [String: Any])
        #expect(loss["attributed"] as? Bool == true && loss["forward"] as? Int == 0 && loss["backward"] as? Int == 0
                && loss["unknown"] as? Int == 0)
        let reflect = try #require((pair["receiver"] as? [String: Any])?["reflect"] as? [String: Any])
        #expect((reflect["stamp"] as? [String: Any])?["stateful"] as? Bool == true)
        #expect((pair["receiver"] as? [String: Any])?["sent"].flatMap { ($0 as? [String: Any])?["packets"] as? Int } == 2_000)
    }
}

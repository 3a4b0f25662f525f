import Foundation
import Testing
@testable import VolleyFleet
@testable import VolleyModel

/// A fleet of STAMP senders or reflectors merges into one result: delays from the summed HDR
/// histograms, loss split only when every agent split it, one-way delays only when all were valid.
@Suite struct StampMergeTests {
    static func summary(_ value: UInt64, count: Int) -> LatencySummary {
        var h = LatencySummary.makeHistogram()
        for _ in 0..<count { h.record(value) }
        return LatencySummary(h)
    }

    static let echoSpec = try! JobSpec.decode(json: Data(#"{"mode":"echo","target":"127.0.0.1","protocol":"stamp","stateful":true,"rate_pps":1000,"duration_s":1}"#.utf8))

    /// One agent's STAMP echo result: `replies` replies of RTT 100 µs and turnaround `turnaround` µs.
    static func echo(_ id: String, replies: Int, turnaround: UInt64, oneWay: Bool = true, loss: StampLoss) -> JobResult {
        var totals = EchoTotals()
        totals.sent = 1_000
        totals.received = UInt64(replies)
        totals.lost = 1_000 - UInt64(replies)
        var r = JobResult(id: JobID(id)!, state: .completed, spec: echoSpec, agent: .init(hostname: id, version: "t"),
                          startedAt: Timestamp(millisecondsSince1970: 1_800_000_000_000),
                          finishedAt: Timestamp(millisecondsSince1970: 1_800_000_001_000), elapsedSeconds: 1,
                          sent: .init(packets: 1_000, bytes: 64_000, partialBatches: 0), received: .init(packets: UInt64(replies)),
                          rate: .init(targetPPS: 1_000, achievedPPS: 1_000, achievedBPS: 512_000), io: .init(send: "sendmmsg", receive: "recvmmsg"),
                          echo: totals, latency: summary(100, count: replies))
        r.stamp = StampEchoReport(
            ssid: 9, timestampFormat: .ntp, reflectorTimestampFormat: "ntp", senderClockSynchronized: true,
            reflectorClockSynchronized: oneWay, sharedClock: false, oneWayValid: oneWay,
            oneWayNote: oneWay ? "both clocks said they were synchronized to an external source (S bit)" : "reflector clock not synchronized",
            turnaroundUs: summary(turnaround, count: replies), forwardUs: oneWay ? summary(40, count: replies) : nil,
            backwardUs: oneWay ? summary(60, count: replies) : nil, negativeOneWay: 1, turnaroundOverRTT: 2, loss: loss)
        return r
    }

    @Test func delaysComeFromTheSummedHistogramsAndLossAddsUp() throws {
        let a = Self.echo("ja", replies: 990, turnaround: 10, loss: StampLoss(attributed: true, forward: 6, backward: 3, unknown: 1))
        let b = Self.echo("jb", replies: 980, turnaround: 1_000, loss: StampLoss(attributed: true, forward: 15, backward: 5, unknown: 0))
        let merged = try ResultMerger.merge([a, b], fleetID: JobID("fleet")!, spec: Self.echoSpec)
        let s = try #require(merged.stamp)
        let turnaround = try #require(s.turnaroundUs)
        // 990 samples of 10 µs and 980 of 1,000 µs: the median is 10, the p99 is 1,000.
        #expect(turnaround.count == 1_970 && turnaround.p50 == 10 && turnaround.p99 == 1_000)
        #expect(s.oneWayValid && s.forwardUs?.count == 1_970 && s.backwardUs?.p50 == 60)
        #expect(s.loss == StampLoss(attributed: true, forward: 21, backward: 8, unknown: 1))
        // forward + backward + late + unknown = lost: 21 + 8 + 0 + 1 = 30.
        #expect(merged.echo?.lost == 30)
        #expect(s.negativeOneWay == 2 && s.turnaroundOverRTT == 4 && s.reflectorTimestampFormat == "ntp")
    }

    @Test func oneAgentWithoutASplitOrValidClocksTakesTheClaimAwayFromTheFleet() throws {
        let a = Self.echo("ja", replies: 1_000, turnaround: 10, loss: StampLoss(attributed: true, forward: 0, backward: 0, unknown: 0))
        var b = Self.echo("jb", replies: 1_000, turnaround: 10, oneWay: false,
                          loss: StampLoss(attributed: false, note: "only round-trip loss is known"))
        b.stamp?.reflectorTimestampFormat = "ptp"
        let merged = try ResultMerger.merge([a, b], fleetID: JobID("fleet")!, spec: Self.echoSpec)
        let s = try #require(merged.stamp)
        #expect(!s.oneWayValid && s.forwardUs == nil && s.backwardUs == nil)
        #expect(s.oneWayNote == "not valid on every agent; job jb: reflector clock not synchronized")
        #expect(s.loss == StampLoss(attributed: false, note: "1 of 2 agents could not split loss; job jb: only round-trip loss is known"))
        #expect(s.reflectorTimestampFormat == "mixed" && s.reflectorClockSynchronized == false)
        #expect(s.turnaroundUs?.count == 2_000)
    }

    @Test func volleyEchoFleetsHaveNoStampSection() throws {
        var a = Self.echo("ja", replies: 1_000, turnaround: 10, loss: StampLoss(attributed: false, note: "x"))
        a.stamp = nil
        #expect(try ResultMerger.merge([a, a], fleetID: JobID("fleet")!, spec: Self.echoSpec).stamp == nil)
    }

    @Test func reflectorsSumTheirRefusalsSessionsAndTimestampSources() throws {
        let spec = try JobSpec.decode(json: Data(#"{"mode":"reflect","listen":"127.0.0.1","protocol":"stamp","stateful":true,"duration_s":1}"#.utf8))
        func reflector(_ id: String, sessions: Int, synchronized: Bool) -> JobResult {
            var r = JobResult(id: JobID(id)!, state: .completed, spec: spec, agent: .init(hostname: id, version: "t"),
                              startedAt: Timestamp(millisecondsSince1970: 1_800_000_000_000),
                              finishedAt: Timestamp(millisecondsSince1970: 1_800_000_001_000), elapsedSeconds: 1,
                              sent: .init(packets: 100, partialBatches: 0), received: .init(packets: 104),
                              rate: .init(targetPPS: 0, achievedPPS: 104, achievedBPS: 0), io: .init(send: "sendmmsg", receive: "recvmmsg"))
            var totals = ReflectTotals()
            totals.refusedSources = 1
            totals.refusedSessions = 3
            totals.replyCapPPS = 500
            var stamp = StampReflectTotals(stateful: true, timestampFormat: .ntp, clockSynchronized: synchronized)
            stamp.sessions = sessions
            stamp.sessionLimit = 4096
            stamp.kernelReceiveTimestamps = 99
            stamp.appReceiveTimestamps = 1
            stamp.tlvsUnrecognized = 2
            totals.stamp = stamp
            r.reflect = totals
            return r
        }
        let merged = try ResultMerger.merge([reflector("ja", sessions: 2, synchronized: true), reflector("jb", sessions: 5, synchronized: false)],
                                            fleetID: JobID("fleet")!, spec: spec)
        let reflect = try #require(merged.reflect)
        #expect(reflect.refusedSources == 2 && reflect.refusedSessions == 6 && reflect.replyCapPPS == 1_000)
        let s = try #require(reflect.stamp)
        #expect(s.sessions == 7 && s.sessionLimit == 4096 && s.kernelReceiveTimestamps == 198 && s.appReceiveTimestamps == 2)
        #expect(s.tlvsUnrecognized == 4 && !s.clockSynchronized)
        #expect(merged.stamp == nil)
    }
}

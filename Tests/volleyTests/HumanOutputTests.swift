import Foundation
import Testing
import VolleyModel
@testable import volley

/// The human side of the CLI: units, grouping, quick-flag parsing and the summary, as exact text.
@Suite struct HumanOutputTests {
    @Test func siUnitsKeepThreeDigitsInPowersOfAThousand() {
        #expect(HumanUnits.pps(48_213) == "48.2 kpps")
        #expect(HumanUnits.bits(24_700_000) == "24.7 Mbit/s")
        #expect(HumanUnits.pps(950) == "950 pps")
        #expect(HumanUnits.pps(0) == "0 pps")
        #expect(HumanUnits.pps(1_500_000) == "1.50 Mpps")
        #expect(HumanUnits.pps(999_999) == "1.00 Mpps")  // not "1000 kpps"
        #expect(HumanUnits.bits(100e9) == "100 Gbit/s")
        #expect(HumanUnits.bits(2.5e12) == "2.50 Tbit/s")
        #expect(HumanUnits.percent(0.000_04) == "0.0040 %" && HumanUnits.percent(1) == "100.0 %" && HumanUnits.percent(0) == "0 %")
        #expect(HumanUnits.micros(12.7) == "12.7 µs" && HumanUnits.micros(4_250) == "4.25 ms")
    }

    @Test func groupingPutsCommasEveryThreeDigits() {
        #expect(0.grouped == "0" && 999.grouped == "999" && 1000.grouped == "1,000")
        #expect(1_234_567.grouped == "1,234,567" && (-1_234).grouped == "-1,234")
        #expect(UInt64.max.grouped == "18,446,744,073,709,551,615")
    }

    @Test func ratesTakeSISuffixesAndRefuseTheRest() {
        #expect(HumanUnits.parseSI("100k") == 100_000 && HumanUnits.parseSI("2.5M") == 2_500_000)
        #expect(HumanUnits.parseSI("1G") == 1_000_000_000 && HumanUnits.parseSI("64") == 64 && HumanUnits.parseSI("5K") == 5_000)
        for bad in ["", "k", "fast", "1.5", "10m", "0", "-5", "1e3", "5 k k", "1.2.3k"] {
            #expect(HumanUnits.parseSI(bad) == nil, "\(bad)")
        }
        #expect(HumanUnits.parseDuration("5s") == 5 && HumanUnits.parseDuration("500ms") == 0.5)
        #expect(HumanUnits.parseDuration("2m") == 120 && HumanUnits.parseDuration("1.5") == 1.5)
        for bad in ["", "s", "0s", "5x", "-1s", "ms"] { #expect(HumanUnits.parseDuration(bad) == nil, "\(bad)") }
    }

    @Test func quickFlagsBuildTheSpecABitRateBecomesDatagrams() throws {
        let send = try QuickFlags.parse(["--target", "127.0.0.1:9000", "--rate", "100k", "--size", "64", "--time", "5s"])
            .spec(mode: .send)
        #expect(send.mode == .send && send.target?.description == "127.0.0.1:9000")
        #expect(send.ratePPS == 100_000 && send.payloadBytes == 64 && send.durationSeconds == 5 && send.rateBPS == nil)
        // 50 Mbit/s of 1,200-byte payloads: 50e6 / 9,600 = 5,208.3 datagrams/s.
        let bits = try QuickFlags.parse(["--target", "127.0.0.1:9000", "--bitrate", "50M", "--size", "1200"]).spec(mode: .send)
        #expect(bits.rateBPS == 50_000_000 && bits.ratePPS == 5_208)
        let sink = try QuickFlags.parse(["--listen", "127.0.0.1:9000", "--time", "500ms", "--max-loss", "0.001"]).spec(mode: .sink)
        #expect(sink.listen?.port == 9000 && sink.durationSeconds == 0.5 && sink.thresholds?.bounds[.lossRatio]?.max == 0.001)
        #expect(throws: (any Error).self) { try QuickFlags.parse(["--listen", "127.0.0.1:9"]).spec(mode: .send) }
        #expect(throws: (any Error).self) { try QuickFlags.parse(["--target", "127.0.0.1:9", "--rate", "1k", "--bitrate", "1M"]).spec(mode: .send) }
    }

    /// A fixed echo result: 10,000 sent, 9,990 replies, one failed threshold and one warning.
    static func echoResult() throws -> JobResult {
        let spec = try JobSpec.decode(json: Data(#"{"mode":"echo","target":"127.0.0.1:9000","rate_pps":2000,"duration_s":5,"thresholds":{"rtt_us.p99":{"max":500}}}"#.utf8))
        var echo = EchoTotals()
        echo.sent = 10_000
        echo.received = 9_990
        echo.lost = 10
        echo.late = 3
        var h = LatencySummary.makeHistogram()
        for v: UInt64 in 1...100 { h.record(v * 10) }  // 10 … 1,000 µs
        var r = JobResult(id: JobID("jgolden")!, state: .completed, spec: spec, agent: .init(hostname: "h", version: "t"),
                          startedAt: Timestamp(millisecondsSince1970: 0), finishedAt: Timestamp(millisecondsSince1970: 5_000),
                          elapsedSeconds: 5.0004, sent: .init(packets: 10_000, bytes: 640_000, errors: ["no_buffer": 2]),
                          received: .init(packets: 9_990, bytes: 639_360),
                          rate: .init(targetPPS: 2_000, achievedPPS: 1_999.84, achievedBPS: 1_023_918),
                          io: .init(send: "sendmmsg", receive: "recvmmsg"), echo: echo, latency: LatencySummary(h),
                          timeline: [.init(t: 0, sent: 2_000, received: 1_995, achievedPPS: 2_000, lost: 5, rttP50: 480, rttP99: 990),
                                     .init(t: 1, sent: 8_000, received: 7_995, achievedPPS: 7_999.5, lost: 5, rttP50: 500, rttP99: 1_000)])
        r.verdict = Verdict.evaluate(r)
        return r
    }

    @Test func theSummaryReadsLikeThis() throws {
        let text = Summary.text(try Self.echoResult(), interval: true)
        #expect(text == """
            volley echo to 127.0.0.1:9000: completed after 5.00 s
              sent       10,000 datagrams  640,000 bytes  2.00 kpps  1.02 Mbit/s of 2.00 kpps asked
              replies    9,990 of 10,000  lost 10 (0.10 %)  (late 3)
              RTT        min 10  p50 500  p90 900  p99 990  p99.9 1000  max 1000 µs
              errors     send: no_buffer 2
              second          sent    received        rate         bit/s     lost   p50 µs   p99 µs
              0-1            2,000       1,995   2.00 kpps   1.02 Mbit/s        5      480      990
              1-2            8,000       7,995   8.00 kpps   4.10 Mbit/s        5      500     1000
            FAILED
              failed   rtt_us.p99 990 is above max 500

            """, "\(text)")
    }

    @Test func aSinkSummaryShowsLossByGapsAndJitter() throws {
        let spec = try JobSpec.decode(json: Data(#"{"mode":"sink","listen":"0.0.0.0:9000","duration_s":6}"#.utf8))
        let flows = [SenderSequence(source: "198.18.0.1:4000", jobTag: 1, flow: 0, unique: 999_000, duplicates: 0, reordered: 7,
                                    highestSeq: 999_999, tooOld: 0, jitterUs: 20),
                     SenderSequence(source: "198.18.0.2:4000", jobTag: 2, flow: 0, unique: 1_000, duplicates: 2, reordered: 0,
                                    highestSeq: 999, tooOld: 0, jitterUs: 1_020)]
        var r = JobResult(id: JobID("jsink")!, state: .completed, spec: spec, agent: .init(hostname: "h", version: "t"),
                          startedAt: Timestamp(millisecondsSince1970: 0), finishedAt: Timestamp(millisecondsSince1970: 6_000),
                          elapsedSeconds: 6, sent: .init(), received: .init(packets: 1_000_002, bytes: 64_000_128),
                          rate: .init(targetPPS: 0, achievedPPS: 166_667, achievedBPS: 85_333_504),
                          io: .init(send: "none", receive: "recvmmsg"), sequence: SequenceReport(senders: flows, unstamped: 0))
        r.verdict = Verdict.evaluate(r)
        // Jitter weighted by datagrams: (999,000 × 20 + 1,000 × 1,020) / 1,000,000 = 21 µs.
        #expect(Summary.text(r) == """
            volley sink on 0.0.0.0:9000: completed after 6.00 s
              received   1,000,002 datagrams  64,000,128 bytes  167 kpps  85.3 Mbit/s
              loss       1,000 of 1,001,000 (0.10 %) by sequence gaps of 2 flows  (duplicates 2, reordered 7)
              jitter     21 µs (RFC 3550)
              errors     none
            PASSED

            """, "\(Summary.text(r))")
    }
}

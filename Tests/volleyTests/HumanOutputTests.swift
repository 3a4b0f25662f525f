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

    @Test func theProgressLineShowsTheLastSecondAndLiveRTTForEcho() throws {
        // 6.0 s in all: the echo job waits its 1 s reply timeout after sending for 5 s.
        let spec = try JobSpec.decode(json: Data(#"{"mode":"echo","target":"127.0.0.1:9000","rate_pps":2000,"duration_s":5}"#.utf8))
        let p = JobProgress(packetsSent: 4_000, packetsReceived: 3_990, bytesSent: 256_000, bytesReceived: 255_360,
                            elapsedSeconds: 2.04, rtt: LiveRTT(second: 1, p50: 1_480, p99: 12_900))
        #expect(ProgressLine.text(p, spec: spec, rate: (pps: 2_000, bps: 1_024_000)) ==
            "  2.0/6.0 s  2.00 kpps 1.02 Mbit/s of 2.00 kpps  sent 4,000  received 3,990  unanswered 10 (0.25 %)  RTT p50 1,480 µs p99 12,900 µs")
        // Before the first second has settled there is no RTT to show; a send job (default 1,000 pps) never has one.
        var early = p
        early.rtt = nil
        #expect(!ProgressLine.text(early, spec: spec, rate: (pps: 2_000, bps: 1_024_000)).contains("RTT"))
        let send = try JobSpec.decode(json: Data(#"{"mode":"send","target":"127.0.0.1:9000","duration_s":5}"#.utf8))
        #expect(ProgressLine.text(JobProgress(packetsSent: 1_234_567, bytesSent: 79_012_288, elapsedSeconds: 1),
                                  spec: send, rate: (pps: 1_234_567, bps: 632_098_304)) ==
            "  1.0/5.0 s  1.23 Mpps 632 Mbit/s of 1.00 kpps  sent 1,234,567  received 0")
    }

    @Test func aBitRateJobReadsItsTargetInBitsPerSecondAndSkipsAndBackOffsShowWithItsErrors() throws {
        let spec = try JobSpec.decode(json: Data(#"{"mode":"send","target":"127.0.0.1:9000","rate_bps":50000000,"payload_bytes":1200,"duration_s":5}"#.utf8))
        let r = JobResult(id: JobID("jbits")!, state: .completed, spec: spec, agent: .init(hostname: "h", version: "t"),
                          startedAt: Timestamp(millisecondsSince1970: 0), finishedAt: Timestamp(millisecondsSince1970: 5_000),
                          elapsedSeconds: 5, sent: .init(packets: 26_040, bytes: 31_248_000, errors: ["permission_denied": 3]),
                          received: .init(),
                          rate: .init(targetPPS: 5_208, achievedPPS: 5_208, achievedBPS: 49_996_800),
                          io: .init(send: "sendmmsg", receive: "none"))
        var withPressure = r
        withPressure.sent.skipped = 3
        withPressure.sent.backoffs = 12
        #expect(Summary.counts(withPressure) == [
            "  sent       26,040 datagrams  31,248,000 bytes  5.21 kpps  50.0 Mbit/s of 50.0 Mbit/s asked (5.21 kpps)",
            "  errors     send: permission_denied 3  (skipped 3, backoffs 12)"])
    }

    @Test func statusShowsARunningEchoJobWithItsRTTAndAFinishedOneWithItsVerdict() throws {
        let spec = try JobSpec.decode(json: Data(#"{"mode":"echo","target":"127.0.0.1:9000","rate_pps":2000,"duration_s":5}"#.utf8))
        var job = Job(id: JobID("jstatus")!, state: .running, spec: spec, createdAt: Timestamp(millisecondsSince1970: 0),
                      progress: JobProgress(packetsSent: 4_000, packetsReceived: 3_990, bytesSent: 256_000, bytesReceived: 255_360,
                                            elapsedSeconds: 2.04, rtt: LiveRTT(second: 1, p50: 61, p99: 1_480)))
        #expect(Status.text(job) == """
            jstatus  running
              echo to 127.0.0.1:9000, 2.0 of 6.0 s
              sent     4,000 datagrams  256,000 bytes
              received 3,990 datagrams  255,360 bytes
              RTT      p50 61 µs  p99 1,480 µs (second 1)

            """, "\(Status.text(job))")
        let result = try Self.echoResult()
        job.state = .completed
        job.progress = JobProgress(packetsSent: 10_000, packetsReceived: 9_990, bytesSent: 640_000, bytesReceived: 639_360,
                                   elapsedSeconds: 6)
        job.verdict = result.verdict
        #expect(Status.text(job) == """
            jstatus  completed
              echo to 127.0.0.1:9000, 6.0 of 6.0 s
              sent     10,000 datagrams  640,000 bytes
              received 9,990 datagrams  639,360 bytes
            FAILED
              failed   rtt_us.p99 990 is above max 500

            """, "\(Status.text(job))")
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

    @Test func anEchoWhoseWarmUpFailedSaysSoUnderItsRTT() throws {
        var r = try Self.echoResult()
        r.io.warmUps = 0
        r.io.warmUpError = "socket: Too many open files"
        let lines = Summary.text(r).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let rtt = try #require(lines.firstIndex { $0.hasPrefix("  RTT ") })
        #expect(lines[rtt + 1] == "  warm-up    off, the RTT above is without it: socket: Too many open files")
        r.io.warmUpError = nil
        r.io.warmUps = 9_990
        #expect(!Summary.text(r).contains("warm-up"))  // working as it should: nothing to say
    }

    /// The workers' CPU (`io.workers`) goes just above the errors, and only when the result has it.
    @Test func theWorkersCPUIsShownWhenTheResultHasIt() throws {
        var r = try Self.echoResult()
        #expect(!Summary.text(r).contains("  CPU "))
        r.io.workers = .init(cpuSeconds: 4.987, voluntarySwitches: 0, involuntarySwitches: 1_234)
        let lines = Summary.text(r).split(separator: "\n").map(String.init)
        let errors = try #require(lines.firstIndex { $0.hasPrefix("  errors ") })
        #expect(lines[errors - 1] == "  CPU        4.99 s used by the worker threads  (blocked 0 times, preempted 1,234)")
    }

    /// `cpu_latency_us`: what the host's limit was while the job ran, or that it was not held.
    @Test func theCPULatencyRequestIsShownWhenTheSpecAskedForOne() throws {
        var r = try Self.echoResult()
        #expect(!Summary.text(r).contains("idle CPUs"))
        r.spec.cpuLatencyMicroseconds = 5
        r.io.cpuLatencyMicroseconds = 0
        #expect(Summary.text(r).contains("  idle CPUs  held to 0 µs to wake (asked 5 µs)"))
        r.io.cpuLatencyMicroseconds = nil
        #expect(Summary.text(r).contains("  idle CPUs  not held: the kernel did not take the request for 5 µs"))
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
                          io: .init(send: "none", receive: "recvmmsg", receiveBufferBytes: 8_388_608),
                          sequence: SequenceReport(senders: flows, unstamped: 0))
        r.received.kernelDrops = 1_000  // every datagram lost was dropped at this host's socket
        r.verdict = Verdict.evaluate(r)
        // Jitter weighted by datagrams: (999,000 × 20 + 1,000 × 1,020) / 1,000,000 = 21 µs.
        #expect(Summary.text(r) == """
            volley sink on 0.0.0.0:9000: completed after 6.00 s
              received   1,000,002 datagrams  64,000,128 bytes  167 kpps  85.3 Mbit/s
              loss       1,000 of 1,001,000 (0.10 %) by sequence gaps of 2 flows  (duplicates 2, reordered 7)
              jitter     21 µs (RFC 3550)
              dropped    1,000 by this host's socket queue (receive buffer 8,388,608 bytes)
              errors     none
            PASSED

            """, "\(Summary.text(r))")
    }
}

import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// Jobs under attack from `HostilePeer` and `ReplayingReflector`: whatever arrives, the job ends, every
/// datagram read lands in exactly one count, and state stays within its bounds.
@Suite(.serialized) struct HostileTrafficTests {
    /// The crash: honest replies, then replays far behind the window, plus forged replies.
    /// The job runs until the attack is over and is then stopped: its last drain reads every datagram
    /// already queued (loopback delivers on send), so the counts below are exact on a slow machine too.
    @Test func replayedAndForgedRepliesCannotBreakEchoAccounting() throws {
        let reflector = ReplayingReflector(keep: 1_024, replayBehind: 70_000, replayRounds: 3)
        defer { reflector.stop() }
        let spec = JobSpec(mode: .echo, target: reflector.endpoint, durationSeconds: 120, ratePPS: 50_000,
                           echoTimeoutMilliseconds: 500)
        let run = try JobRun(spec: spec)
        let done = DispatchSemaphore(value: 0)
        let box = ReportBox()
        run.start { box.report = $0; done.signal() }
        let deadline = Date().addingTimeInterval(TestTiming.limit(30))
        while reflector.replayed < 3 * 1_024 && Date() < deadline { usleep(2_000) }
        // The reflector replays from its serving loop: once it answers again, every replay has left.
        let answered = reflector.answered
        while reflector.answered < answered + 2 && Date() < deadline { usleep(1_000) }
        let replayed = reflector.replayed
        // Forged: another tag, a flow it lacks, a sequence number not sent, a send time ahead.
        let forged = reflector.forge(count: 400) { stamp, i in
            switch i % 4 {
            case 0: stamp.tag &+= 1
            case 1: stamp.flow = 77
            case 2: stamp.sequence = 1 << 40
            default: stamp.sentNanos = PeerStamp.monotonicNanos() + 3_600_000_000_000
            }
        }
        run.stop()
        #expect(done.wait(timeout: .now() + 60) == .success)
        let report = try #require(box.report)
        let echo = try #require(report.echo)
        #expect(replayed == 3 * 1_024 && forged == 400, "the reflector did not replay or forge: the test proves nothing")
        #expect(echo.sent > 70_000)
        #expect(echo.received + echo.late <= echo.sent)
        #expect(echo.lost == echo.sent - echo.received)
        #expect(echo.foreign == UInt64(forged))
        #expect(echo.tooOld == UInt64(replayed))  // every replay is 70,000+ behind: past the 65,536 window
        let accounted = echo.received + echo.late + echo.duplicates + echo.tooOld + echo.foreign
        #expect(accounted == report.received.packets)
    }

    /// 16,384 distinct tags at a 4-thread sink: 1,024 flows tracked, the rest counted, nothing lost.
    @Test func aFloodOfDistinctFlowsIsCountedNotAllocated() throws {
        let port = freeUDPPort()
        let run = try JobRun(spec: JobSpec(mode: .sink, listen: loopback(port), durationSeconds: 30, threads: 4,
                                           maxPackets: 16_384 + 32 + 3))
        let done = DispatchSemaphore(value: 0)
        let box = ReportBox()
        run.start { box.report = $0; done.signal() }
        let peer = HostilePeer(target: loopback(port))
        var sent = 0
        for chunk in 0..<16 {  // in chunks, so the sink's buffers keep up on a busy machine
            sent += peer.flood(count: 1_024, varying: .tag, first: UInt32(1 + chunk * 1_024), sockets: 4)
            usleep(2_000)
        }
        sent += peer.truncatedStamps(tag: 5)
        sent += peer.oversize(tag: 5, lengths: [65_507, 2_049, 32])
        #expect(sent == 16_384 + 32 + 3)
        #expect(done.wait(timeout: .now() + 60) == .success)
        let report = try #require(box.report)
        let sequence = try #require(report.sequence)
        #expect(report.received.packets == UInt64(sent))
        #expect(sequence.senders.count == 1_024 && sequence.flowLimit == 1_024)
        // The 65,507- and 2,049-byte stamps still count for their (tracked or not) flows; 32 short ones are unstamped.
        #expect(sequence.unstamped == 32)
        #expect(UInt64(sequence.senders.reduce(0) { $0 + $1.unique }) + sequence.untrackedDatagrams == 16_384 + 3)
        #expect(run.allocatedBytes <= JobFootprint(spec: run.spec).memoryBytes)
    }

    @Test func sequenceJumpsAreCountedAndCostLittle() throws {
        let port = freeUDPPort()
        let run = try JobRun(spec: JobSpec(mode: .sink, listen: loopback(port), durationSeconds: 30, maxPackets: 300))
        let done = DispatchSemaphore(value: 0)
        let box = ReportBox()
        let cpuBefore = processCPUSeconds()
        run.start { box.report = $0; done.signal() }
        let peer = HostilePeer(target: loopback(port))
        #expect(peer.sequenceJumps(count: 300, step: 1 << 21, tag: 11) == 300)
        #expect(done.wait(timeout: .now() + 60) == .success)
        let report = try #require(box.report)
        let flow = try #require(report.sequence?.senders.first)
        #expect(report.received.packets == 300 && flow.unique == 300 && flow.highestSeq == 299 << 21)
        // The old window cleared up to 2^21 bits per datagram: seconds of CPU for these 300 in a debug build.
        #expect(processCPUSeconds() - cpuBefore < 1.0)
    }
}

/// CPU time of this process so far (user + system), from getrusage.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

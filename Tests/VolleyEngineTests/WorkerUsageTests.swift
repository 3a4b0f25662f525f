import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// `io.workers`: what a job's threads used (getrusage RUSAGE_THREAD), and a paced send's
/// `busy_poll_us`, which those figures show: a spinning pacer never blocks and pays in CPU.
@Suite(.serialized) struct WorkerUsageTests {
    /// 2,000/s for 0.5 s: one datagram per batch (less than a 250 µs gap's worth), so a pacer that
    /// sleeps blocks once per datagram, about 1,000 times; with `busy_poll_us` 1000 every wait
    /// (~500 µs) is spun through and the thread never blocks. Both send exactly the same datagrams.
    @Test func aSpinningPacerNeverBlocksAndPaysInCPU() throws {
        var results: [Int: EngineReport] = [:]
        for spin in [0, 1_000] {
            let receiver = UDPCounter()
            var spec = sendSpec(to: receiver.port, duration: 0.5, rate: 2_000)
            spec.busyPollMicroseconds = spin
            let report = try runJob(spec)
            #expect(report.sent.packets == 1_000, "busy_poll_us \(spin)")
            #expect(receiver.drain().packets == 1_000, "busy_poll_us \(spin)")
            results[spin] = report
        }
        let sleeping = try #require(results[0]?.io.workers)
        let spinning = try #require(results[1_000]?.io.workers)
        // A late wake-up on a busy machine can leave a wait out, never add one: loose below.
        #expect(sleeping.voluntarySwitches >= 250, "\(sleeping)")
        // Nothing on a spinning pacer's way blocks (the receiver is another thread's).
        #expect(spinning.voluntarySwitches < 20, "\(spinning)")
        #expect(spinning.cpuSeconds > sleeping.cpuSeconds, "spinning \(spinning), sleeping \(sleeping)")
    }

    /// Every thread's usage is summed: two sending threads block about twice as often as one, and a
    /// sink that waited for datagrams shows its waits.
    @Test func usageIsSummedOverThreadsAndReportedForEveryMode() throws {
        let receiver = UDPCounter()
        let two = try runJob(sendSpec(to: receiver.port, duration: 0.5, rate: 4_000, threads: 2))
        _ = receiver.drain()
        #expect(two.sent.packets == 2_000)
        let usage = try #require(two.io.workers)
        // Each thread: 2,000/s, one datagram per batch, ~1,000 sleeps.
        #expect(usage.voluntarySwitches >= 500, "\(usage)")
        #expect(usage.cpuSeconds > 0)

        let sink = try runJob(JobSpec(mode: .sink, listen: loopback(freeUDPPort()), durationSeconds: 0.3))
        let waited = try #require(sink.io.workers)
        #expect(waited.voluntarySwitches >= 1, "\(waited)")
    }
}

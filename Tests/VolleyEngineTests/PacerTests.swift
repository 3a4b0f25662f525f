import Testing
@testable import VolleyEngine
@testable import VolleyModel

private func pacer(rate: Int, batch: Int = 64, profile: [JobSpec.ProfileStep]? = nil, start: UInt64 = 0,
                   mode: JobSpec.Mode = .send) -> Pacer {
    let spec = JobSpec(mode: mode, durationSeconds: 10, ratePPS: rate, profile: profile, batch: batch)
    return Pacer(schedule: RateSchedule(spec: spec, share: 1), batch: batch, startNanos: start,
                 gapNanos: Pacer.gapNanos(for: mode))
}

@Suite struct PacerTests {
    @Test func unlimitedRateAlwaysAllowsAFullBatch() {
        let p = pacer(rate: 0)
        #expect(p.allowance(sent: 1_000_000, now: 1) == 64)
        #expect(p.waitNanos(sent: 5, now: 0) == 0)
    }

    @Test func batchesShrinkSoDatagramsLeaveEvery250Microseconds() {
        #expect(pacer(rate: 100_000).batchLimit(now: 0) == 25)
        #expect(pacer(rate: 1_000).batchLimit(now: 0) == 1)
        #expect(pacer(rate: 10_000_000).batchLimit(now: 0) == 64)
    }

    @Test func echoRequestsLeaveOneByOneUpTo10000PerSecond() {
        // A request sent in a burst waits behind the others of the burst: its RTT measures our queue.
        #expect(pacer(rate: 10_000, mode: .echo).batchLimit(now: 0) == 1)
        #expect(pacer(rate: 15_000, mode: .echo).batchLimit(now: 0) == 1)
        #expect(pacer(rate: 20_000, mode: .echo).batchLimit(now: 0) == 2)       // 100 µs worth above
        #expect(pacer(rate: 100_000, mode: .echo).batchLimit(now: 0) == 10)
        #expect(pacer(rate: 10_000, mode: .send).batchLimit(now: 0) == 2)       // throughput keeps 250 µs
        let echo = pacer(rate: 10_000, start: 1_000, mode: .echo)
        #expect(echo.allowance(sent: 0, now: 1_000) == 1)
        #expect(echo.allowance(sent: 1, now: 1_000) == 0)
        #expect(echo.waitNanos(sent: 1, now: 1_000) == 100_000)                 // each at its own time
        #expect(echo.allowance(sent: 1, now: 1_000 + 100_000) == 1)
    }

    @Test func creditFollowsElapsedTime() {
        let p = pacer(rate: 1_000, start: 1_000)
        #expect(p.allowance(sent: 0, now: 1_000) == 1)          // first datagram at time zero
        #expect(p.allowance(sent: 1, now: 1_000) == 0)
        #expect(p.waitNanos(sent: 1, now: 1_000) == 1_000_000)  // the next one 1 ms later
        #expect(p.allowance(sent: 1, now: 1_000 + 1_000_000) == 1)
        let fast = pacer(rate: 100_000)
        #expect(fast.allowance(sent: 0, now: 10_000_000) == 25)   // late: catch up one batch at a time
        #expect(fast.allowance(sent: 990, now: 10_000_000) == 0)        // 11 owed: wait for a batch of 25
        #expect(fast.waitNanos(sent: 990, now: 10_000_000) == 140_000)  // until 1014 are due
    }

    @Test func stepsAndRampsIntegrateTheRate() {
        let steps: [JobSpec.ProfileStep] = [.init(ratePPS: 1_000, durationSeconds: 1),
                                            .init(rampToPPS: 3_000, durationSeconds: 2),
                                            .init(ratePPS: 0, durationSeconds: 1)]
        let schedule = RateSchedule(spec: JobSpec(mode: .send, profile: steps), share: 1)
        #expect(schedule.due(at: 500_000_000) == 500)
        #expect(schedule.due(at: 1_000_000_000) == 1_000)
        #expect(schedule.rate(at: 2_000_000_000) == 2_000)             // halfway up the ramp
        #expect(schedule.due(at: 2_000_000_000) == 1_000 + 1_500)        // area of the first half of the ramp
        #expect(schedule.due(at: 3_000_000_000) == 1_000 + 4_000)
        #expect(schedule.due(at: 3_500_000_000) == 5_000)                // paused
        #expect(schedule.due(at: 9_000_000_000) == 5_000)
    }

    @Test func threadSharesAddUpToTheJobRate() {
        let spec = JobSpec(mode: .send, durationSeconds: 10, ratePPS: 1_000, threads: 4)
        let total = (0..<4).reduce(0.0) { sum, _ in sum + RateSchedule(spec: spec, share: 0.25).due(at: 2_000_000_000) }
        #expect(total == 2_000)
    }
}

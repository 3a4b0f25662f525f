import Testing
@testable import VolleyEngine

@Suite struct PacerTests {
    @Test func unlimitedRateAlwaysAllowsAFullBatch() {
        let pacer = Pacer(ratePPS: 0, batch: 64, startNanos: 0)
        #expect(pacer.allowance(sent: 1_000_000, now: 1) == 64)
        #expect(pacer.waitNanos(sent: 5, now: 0) == 0)
    }

    @Test func lowRatesShrinkTheBatchSoGapsStayNearOneMillisecond() {
        #expect(Pacer(ratePPS: 10_000, batch: 64, startNanos: 0).batchLimit == 10)
        #expect(Pacer(ratePPS: 100, batch: 64, startNanos: 0).batchLimit == 1)
        #expect(Pacer(ratePPS: 10_000_000, batch: 64, startNanos: 0).batchLimit == 64)
    }

    @Test func creditFollowsElapsedTime() {
        let pacer = Pacer(ratePPS: 1_000, batch: 64, startNanos: 1_000)
        #expect(pacer.allowance(sent: 0, now: 1_000) == 1)         // first packet at time zero
        #expect(pacer.allowance(sent: 1, now: 1_000) == 0)
        #expect(pacer.waitNanos(sent: 1, now: 1_000) == 1_000_000)  // next one 1 ms later
        #expect(pacer.allowance(sent: 1, now: 1_000 + 1_000_000) == 1)
        // A late worker catches up, one batch at a time.
        #expect(pacer.allowance(sent: 1, now: 1_000 + 50_000_000) == 1)  // batch limit is 1 at 1 kpps
        let fast = Pacer(ratePPS: 100_000, batch: 64, startNanos: 0)
        #expect(fast.allowance(sent: 0, now: 10_000_000) == 64)
        #expect(fast.allowance(sent: 990, now: 10_000_000) == 11)
    }

    @Test func hugeElapsedTimesDoNotOverflow() {
        let pacer = Pacer(ratePPS: 100_000_000, batch: 1024, startNanos: 0)
        #expect(pacer.allowance(sent: 0, now: 3_600_000_000_000) == 1024)
    }
}

import Glibc
import Testing
@testable import VolleyEngine
@testable import VolleyModel

/// RFC 3550 interarrival jitter against series worked out by hand.
@Suite struct JitterTests {
    private let ms: UInt64 = 1_000_000

    @Test func followsTheRFCRecurrenceExactly() {
        // Sent every 10 ms; transit 5, 7, 4, 6 ms, so D = +2, −3, +2 ms:
        // J = 2e6/16 = 125,000; + (3e6 − 125,000)/16 = 304,687.5; + (2e6 − 304,687.5)/16 = 410,644.53125 ns.
        var j = InterarrivalJitter()
        j.add(sentNanos: 0, arrivalNanos: 5 * ms)
        #expect(j.microseconds == nil && j.samples == 0)
        j.add(sentNanos: 10 * ms, arrivalNanos: 17 * ms)
        #expect(j.nanos == 125_000)
        j.add(sentNanos: 20 * ms, arrivalNanos: 24 * ms)
        #expect(j.nanos == 304_687.5)
        j.add(sentNanos: 30 * ms, arrivalNanos: 36 * ms)
        #expect(j.nanos == 410_644.53125 && j.samples == 3)
        #expect(j.microseconds == 410.64453125)
    }

    @Test func aClockOffsetCancelsAndSteadyTransitIsZero() {
        var j = InterarrivalJitter()
        // The sender's clock is far ahead of ours (transit "negative", wrapped): constant all the same.
        for i: UInt64 in 0..<100 { j.add(sentNanos: (UInt64.max - 1_000) &+ i * ms, arrivalNanos: 7 + i * ms) }
        #expect(j.nanos == 0 && j.samples == 99)
    }

    @Test func hostileSendTimesNeitherTrapNorMoveJBeyondTheClamp() {
        var j = InterarrivalJitter()
        j.add(sentNanos: UInt64.max, arrivalNanos: 0)
        j.add(sentNanos: 0, arrivalNanos: UInt64.max)
        j.add(sentNanos: 1 << 63, arrivalNanos: 0)  // a difference of exactly Int64.min
        #expect(j.nanos.isFinite && j.nanos <= Double(InterarrivalJitter.maxStepNanos))
        var one = InterarrivalJitter()
        one.add(sentNanos: 0, arrivalNanos: 0)
        one.add(sentNanos: 0, arrivalNanos: UInt64.max / 2)
        #expect(one.nanos == Double(InterarrivalJitter.maxStepNanos) / 16)
    }

    @Test func theSenderTableKeepsJitterPerFlowOverFirstCopiesOnly() {
        var table = SenderTable(budget: FlowBudget(limit: 4))
        var address = loopbackSource(port: 4000)
        let payload = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        defer { payload.deallocate() }
        // Flow 0: the hand-worked series above, plus a duplicate of sequence 1 arriving very late.
        let series: [(seq: UInt64, sent: UInt64, arrival: UInt64)] =
            [(0, 0, 5 * ms), (1, 10 * ms, 17 * ms), (1, 10 * ms, 900 * ms), (2, 20 * ms, 24 * ms), (3, 30 * ms, 36 * ms)]
        for s in series {
            Stamp.write(payload, tag: 9, flow: 0, sequence: s.seq, sentNanos: s.sent)
            table.record(payload, length: 64, from: &address, arrivalNanos: s.arrival)
        }
        // Flow 1: a single datagram, no jitter yet.
        Stamp.write(payload, tag: 9, flow: 1, sequence: 0, sentNanos: 0)
        table.record(payload, length: 64, from: &address, arrivalNanos: 1)
        let senders = table.senders
        #expect(senders.count == 2)
        #expect(senders[0].jitterUs == 410.64453125 && senders[0].duplicates == 1)
        #expect(senders[1].jitterUs == nil)
        // The report's figure weighs flows by their datagrams; a flow without jitter does not count.
        #expect(SequenceReport(senders: senders, unstamped: 0).jitterUs == 410.64453125)
        var weighted = senders
        weighted[1].jitterUs = 100
        weighted[1].unique = 12  // 4 datagrams at 410.64…, 12 at 100 µs
        let expected: Double = (4 * 410.64453125 + 12 * 100) / 16
        #expect(SequenceReport.weightedJitter(weighted) == expected)
    }
}

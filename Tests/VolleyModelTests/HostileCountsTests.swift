import Testing
@testable import VolleyModel

/// Counters that come from other agents or from received stamps: out-of-range values must not trap.
@Suite struct HostileCountsTests {
    @Test func echoTotalsWithMoreReceivedThanSentMerge() {  // was: `sent - received` trapped
        var total = EchoTotals()
        var odd = EchoTotals()
        odd.sent = 1
        odd.received = 5
        odd.late = .max
        total.merge(odd)
        total.merge(odd)
        #expect(total.lost == 0 && total.received == 10 && total.late == .max)
    }

    @Test func directionTotalsSaturate() {  // was: `+=` trapped
        var total = DirectionTotals(packets: .max, partialBatches: .max, errors: ["would_block": .max])
        total.merge(DirectionTotals(packets: 1, bytes: 2, partialBatches: 1, errors: ["would_block": 1, "other": 3]))
        #expect(total.packets == .max && total.bytes == 2 && total.partialBatches == .max)
        #expect(total.errors == ["would_block": .max, "other": 3])
    }

    @Test func highestSequenceAtUInt64MaxCountsGaps() {  // was: `highestSeq + 1` trapped
        let all = SenderSequence(source: "x", jobTag: 1, flow: 0, unique: 0, duplicates: 0, reordered: 0,
                                 highestSeq: .max, tooOld: 0)
        #expect(all.gaps == .max)
        let some = SenderSequence(source: "x", jobTag: 1, flow: 0, unique: 3, duplicates: 0, reordered: 0,
                                  highestSeq: .max, tooOld: 0)
        #expect(some.gaps == UInt64.max - 2)
        let none = SenderSequence(source: "x", jobTag: 1, flow: 0, unique: 11, duplicates: 0, reordered: 0,
                                  highestSeq: 9, tooOld: 0)
        #expect(none.gaps == 0)
    }
}

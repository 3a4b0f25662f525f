import Foundation
import Glibc
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// A sink stops asking for sources after a long run of unstamped datagrams and asks again when a
/// stamped one comes; the stamped datagrams read meanwhile still land in their sender's flow.
/// A sender table fed stamped datagrams by hand, from 127.0.0.1:4000 or without a source.
private final class Feed {
    var table: SenderTable
    private var source = loopbackSource(port: 4000)
    private let payload = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)

    init(limit: Int = 8) { table = SenderTable(budget: FlowBudget(limit: limit)) }

    deinit { payload.deallocate() }

    /// Sequence `seq` of `tag`/`flow`, sent at `seq` ms and arriving 0.5 ms later.
    func record(tag: UInt32 = 7, flow: UInt32 = 0, _ seq: UInt64, withSource: Bool) {
        Stamp.write(payload, tag: tag, flow: flow, sequence: seq, sentNanos: seq * 1_000_000)
        let arrival = seq * 1_000_000 + 500_000
        if withSource {
            table.record(payload, length: 64, from: &source, arrivalNanos: arrival)
        } else {
            table.record(payload, length: 64, from: nil, arrivalNanos: arrival)
        }
    }
}

@Suite struct SourceReadingTests {
    @Test func thePolicyStopsAfterTheQuietRunAndAsksAgainOnAStamp() {
        var reading = SourceReading(quietAfter: 100)
        // Unstamped batches: reading goes on until 100 in a row, a stamped one starts the run over.
        #expect(reading.next(datagrams: 60, stamped: 0, withSources: true) == (true, false))
        #expect(reading.next(datagrams: 60, stamped: 1, withSources: true) == (true, false))
        #expect(reading.next(datagrams: 60, stamped: 0, withSources: true) == (true, false))
        #expect(reading.next(datagrams: 40, stamped: 0, withSources: true) == (false, false))
        // Without sources: unstamped batches keep it off; a stamped one turns it back on.
        #expect(reading.next(datagrams: 64, stamped: 0, withSources: false) == (false, false))
        #expect(reading.next(datagrams: 64, stamped: 3, withSources: false) == (true, false))
        // The held datagrams are settled after `settleAfter` batches read with sources.
        for _ in 1..<SourceReading.settleAfter {
            #expect(reading.next(datagrams: 1, stamped: 1, withSources: true) == (true, false))
        }
        #expect(reading.next(datagrams: 1, stamped: 1, withSources: true) == (true, true))
        #expect(reading.next(datagrams: 1, stamped: 1, withSources: true) == (true, false))
    }

    @Test func heldDatagramsGoToTheirFlowFirstAndTheRestToAnUnknownSource() {
        let feed = Feed()
        // Sequences 0-2 of flow 1 and 0 of flow 2 come without a source, then flow 1 with its source.
        for seq in 0..<3 { feed.record(flow: 1, UInt64(seq), withSource: false) }
        feed.record(flow: 2, 0, withSource: false)
        #expect(feed.table.holdsSourceless && feed.table.senders.isEmpty && feed.table.stamped == 4)
        for seq in 3..<10 { feed.record(flow: 1, UInt64(seq), withSource: true) }
        let flow1 = feed.table.senders
        #expect(flow1.count == 1)
        #expect(flow1.first?.source == "127.0.0.1:4000" && flow1.first?.flow == 1)
        // All ten, in order: no gap, nothing reordered; the jitter saw a constant delay.
        #expect(flow1.first?.unique == 10 && flow1.first?.gaps == 0 && flow1.first?.reordered == 0)
        #expect(flow1.first?.jitterUs == 0)
        #expect(feed.table.holdsSourceless)
        // Flow 2 never came with a source: settled under an unknown one.
        feed.table.settleSourceless()
        #expect(!feed.table.holdsSourceless)
        let unknown = feed.table.senders.first { $0.flow == 2 }
        #expect(unknown?.source == "unknown" && unknown?.unique == 1)
        #expect(feed.table.stamped == 11 && feed.table.untracked == 0 && feed.table.unstamped == 0)
    }

    @Test func aFlowThatPausedAndCameBackClaimsWhatCameWithoutItsSource() {
        let feed = Feed()
        // The flow is the last one seen when its datagrams start coming without a source: they join
        // it at once, nothing is held.
        for seq in 0..<5 { feed.record(UInt64(seq), withSource: true) }
        feed.record(5, withSource: false)
        feed.record(6, withSource: false)
        #expect(!feed.table.holdsSourceless)
        for seq in 7..<10 { feed.record(UInt64(seq), withSource: true) }
        let senders = feed.table.senders
        #expect(senders.count == 1 && senders.first?.unique == 10 && senders.first?.gaps == 0)
    }

    @Test func aFlowSettledUnderAnUnknownSourceTakesItsSourceWhenOneComes() {
        let feed = Feed()
        for seq in 0..<3 { feed.record(UInt64(seq), withSource: false) }
        feed.table.settleSourceless()
        #expect(feed.table.senders.map(\.source) == ["unknown"])
        feed.record(3, withSource: false)  // joins the unknown flow at once
        #expect(!feed.table.holdsSourceless)
        for seq in 4..<7 { feed.record(UInt64(seq), withSource: true) }
        // One flow, now with its source: a split would have counted 0-3 as missing from it.
        let senders = feed.table.senders
        #expect(senders.count == 1)
        #expect(senders.first?.source == "127.0.0.1:4000")
        #expect(senders.first?.unique == 7 && senders.first?.gaps == 0)
    }

    @Test func theHeldDatagramsAreBoundedAndTheBudgetStillHolds() {
        var table = SenderTable(budget: FlowBudget(limit: 2))
        let payload = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        defer { payload.deallocate() }
        // One more than the table holds, over three flows: reaching the limit settles the held ones
        // (two flows fit the budget, the third's datagrams are untracked); the last, of a flow now
        // tracked, joins it.
        let total = SenderTable.sourcelessLimit + 1
        for i in 0..<total {
            Stamp.write(payload, tag: 1, flow: UInt32(i % 3), sequence: UInt64(i / 3), sentNanos: 0)
            table.record(payload, length: 64, from: nil, arrivalNanos: 1)
        }
        #expect(!table.holdsSourceless)
        let tracked = table.senders.reduce(UInt64(0)) { $0 + $1.unique }
        #expect(table.senders.count == 2 && table.senders.allSatisfy { $0.source == "unknown" })
        #expect(tracked + table.untracked == UInt64(total))
        #expect(table.untracked == UInt64((0..<total).filter { $0 % 3 == 2 }.count))
    }
}

/// The same through a real sink job: unstamped datagrams first, then stamped ones.
@Suite(.serialized) struct SinkSourceReadingTests {
    private func sink(_ port: UInt16) throws -> (JobRun, () -> EngineReport) {
        var options = EngineOptions()
        options.sinkSourcesQuietAfter = 100
        return try launch(JobSpec(mode: .sink, listen: loopback(port), durationSeconds: 30), options: options)
    }

    /// Waits (generously) until the sink has read `count` datagrams.
    private func waitReceived(_ run: JobRun, _ count: UInt64) -> Bool {
        let end = Date().addingTimeInterval(20)
        while Date() < end {
            if run.progress().packetsReceived >= count { return true }
            usleep(2_000)
        }
        return false
    }

    /// With the sink's sources off after `received` datagrams: sends sequence `first` alone (read
    /// without its source), then the rest up to `end`, stops the sink, and returns its sequence
    /// report and its one flow, checked to carry the sender's source.
    private func resume(_ sender: StampedSender, at first: Int, until end: Int, run: JobRun, received: UInt64,
                        report: () -> EngineReport) throws -> (SequenceReport, SenderSequence) {
        sender.send(sequence: UInt64(first))
        #expect(waitReceived(run, received + 1))
        for seq in (first + 1)..<end { sender.send(sequence: UInt64(seq)) }
        #expect(waitReceived(run, received + UInt64(end - first)))
        run.stop()
        let sequence = try #require(report().sequence)
        #expect(sequence.senders.count == 1)
        let flow = try #require(sequence.senders.first)
        #expect(flow.source == "127.0.0.1:\(sender.sourcePort)")
        return (sequence, flow)
    }

    @Test func aSenderThatStartsWhileSourcesAreOffIsStillOneFlowWithItsSource() throws {
        let port = freeUDPPort()
        let (run, report) = try sink(port)
        #expect(sendDatagrams(count: 500, size: 64, to: port) == 500)
        #expect(waitReceived(run, 500))
        let sender = StampedSender(port: port, tag: 42, flow: 0)
        let (sequence, flow) = try resume(sender, at: 0, until: 50, run: run, received: 500, report: report)
        #expect(sequence.unstamped == 500)
        #expect(flow.unique == 50 && flow.gaps == 0 && flow.duplicates == 0 && flow.reordered == 0)
    }

    /// A sink, and a stamped flow whose sequences 0-9 it has read with their source.
    private func sinkWithAFlow(tag: UInt32, flow: UInt32) throws -> (UInt16, JobRun, () -> EngineReport, StampedSender) {
        let port = freeUDPPort()
        let (run, report) = try sink(port)
        let sender = StampedSender(port: port, tag: tag, flow: flow)
        for seq in 0..<10 { sender.send(sequence: UInt64(seq)) }
        #expect(waitReceived(run, 10))
        return (port, run, report, sender)
    }

    @Test func aSenderThatPausesWhileOtherTrafficTurnsSourcesOffKeepsOneFlow() throws {
        let (port, run, report, sender) = try sinkWithAFlow(tag: 44, flow: 1)
        #expect(sendDatagrams(count: 500, size: 64, to: port) == 500)
        #expect(waitReceived(run, 510))
        let (_, flow) = try resume(sender, at: 10, until: 20, run: run, received: 510, report: report)
        #expect(flow.unique == 20 && flow.gaps == 0 && flow.reordered == 0)
    }

    @Test func aLowRateFlowAmongUnstampedBurstsStaysOneFlowWithNoGap() throws {
        let (port, run, report, sender) = try sinkWithAFlow(tag: 45, flow: 2)
        // Each burst turns sources off; each stamped datagram after it is read without its source.
        var received: UInt64 = 10
        for seq in 10..<13 {
            #expect(sendDatagrams(count: 500, size: 64, to: port) == 500)
            received += 500
            #expect(waitReceived(run, received))
            sender.send(sequence: UInt64(seq))
            received += 1
            #expect(waitReceived(run, received))
        }
        run.stop()
        let sequence = try #require(report().sequence)
        #expect(sequence.unstamped == 1_500)
        #expect(sequence.senders.count == 1)
        #expect(sequence.senders.first?.source == "127.0.0.1:\(sender.sourcePort)")
        #expect(sequence.senders.first?.unique == 13 && sequence.senders.first?.gaps == 0)
    }

    @Test func aLoneStampedDatagramReadWithoutItsSourceIsCountedUnderAnUnknownOne() throws {
        let port = freeUDPPort()
        let (run, report) = try sink(port)
        #expect(sendDatagrams(count: 500, size: 64, to: port) == 500)
        #expect(waitReceived(run, 500))
        StampedSender(port: port, tag: 43, flow: 3).send(sequence: 0)
        #expect(waitReceived(run, 501))
        run.stop()
        let final = report()
        #expect(final.received.packets == 501)
        let sequence = try #require(final.sequence)
        #expect(sequence.unstamped == 500 && sequence.untrackedDatagrams == 0)
        #expect(sequence.senders.count == 1)
        #expect(sequence.senders.first?.source == "unknown")
        #expect(sequence.senders.first?.jobTag == 43 && sequence.senders.first?.flow == 3 && sequence.senders.first?.unique == 1)
    }
}

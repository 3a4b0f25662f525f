import Foundation
import Glibc
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// A sink stops asking for sources after a long run of unstamped datagrams and asks again when a
/// stamped one comes; the stamped datagrams read meanwhile still land in their sender's flow.
@Suite struct SourceReadingTests {
    private func ipv4(port: UInt16) -> sockaddr_storage {
        var address = sockaddr_storage()
        withUnsafeMutableBytes(of: &address) { raw in
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            raw.storeBytes(of: sin, as: sockaddr_in.self)
        }
        return address
    }

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
        var table = SenderTable(budget: FlowBudget(limit: 8))
        var a = ipv4(port: 4000)
        let payload = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        defer { payload.deallocate() }
        func record(tag: UInt32, flow: UInt32, seq: UInt64, from address: UnsafePointer<sockaddr_storage>?) {
            Stamp.write(payload, tag: tag, flow: flow, sequence: seq, sentNanos: seq * 1_000_000)
            table.record(payload, length: 64, from: address, arrivalNanos: seq * 1_000_000 + 500_000)
        }
        // Sequences 0-2 of flow 1 and 0 of flow 2 come without a source, then flow 1 with its source.
        for seq in 0..<3 { record(tag: 7, flow: 1, seq: UInt64(seq), from: nil) }
        record(tag: 7, flow: 2, seq: 0, from: nil)
        #expect(table.holdsSourceless && table.senders.isEmpty && table.stamped == 4)
        for seq in 3..<10 { record(tag: 7, flow: 1, seq: UInt64(seq), from: &a) }
        let flow1 = table.senders
        #expect(flow1.count == 1)
        #expect(flow1.first?.source == "127.0.0.1:4000" && flow1.first?.flow == 1)
        // All ten, in order: no gap, nothing reordered; the jitter saw a constant delay.
        #expect(flow1.first?.unique == 10 && flow1.first?.gaps == 0 && flow1.first?.reordered == 0)
        #expect(flow1.first?.jitterUs == 0)
        #expect(table.holdsSourceless)
        // Flow 2 never came with a source: settled under an unknown one.
        table.settleSourceless()
        #expect(!table.holdsSourceless)
        let unknown = table.senders.first { $0.flow == 2 }
        #expect(unknown?.source == "unknown" && unknown?.unique == 1)
        #expect(table.stamped == 11 && table.untracked == 0 && table.unstamped == 0)
    }

    @Test func aFlowThatPausedAndCameBackClaimsWhatCameWithoutItsSource() {
        var table = SenderTable(budget: FlowBudget(limit: 8))
        var a = ipv4(port: 4000)
        let payload = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        defer { payload.deallocate() }
        func record(_ seq: UInt64, from address: UnsafePointer<sockaddr_storage>?) {
            Stamp.write(payload, tag: 7, flow: 0, sequence: seq, sentNanos: 0)
            table.record(payload, length: 64, from: address, arrivalNanos: 1)
        }
        // The flow is the last one seen when its datagrams start coming without a source: they join
        // it at once, nothing is held.
        for seq in 0..<5 { record(UInt64(seq), from: &a) }
        record(5, from: nil)
        record(6, from: nil)
        #expect(!table.holdsSourceless)
        for seq in 7..<10 { record(UInt64(seq), from: &a) }
        #expect(table.senders.count == 1 && table.senders.first?.unique == 10 && table.senders.first?.gaps == 0)
    }

    @Test func aFlowSettledUnderAnUnknownSourceTakesItsSourceWhenOneComes() {
        var table = SenderTable(budget: FlowBudget(limit: 8))
        var a = ipv4(port: 4000)
        let payload = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        defer { payload.deallocate() }
        func record(_ seq: UInt64, from address: UnsafePointer<sockaddr_storage>?) {
            Stamp.write(payload, tag: 7, flow: 0, sequence: seq, sentNanos: 0)
            table.record(payload, length: 64, from: address, arrivalNanos: 1)
        }
        for seq in 0..<3 { record(UInt64(seq), from: nil) }
        table.settleSourceless()
        #expect(table.senders.map(\.source) == ["unknown"])
        record(3, from: nil)  // joins the unknown flow at once
        #expect(!table.holdsSourceless)
        for seq in 4..<7 { record(UInt64(seq), from: &a) }
        // One flow, now with its source: a split would have counted 0-3 as missing from it.
        #expect(table.senders.count == 1)
        #expect(table.senders.first?.source == "127.0.0.1:4000")
        #expect(table.senders.first?.unique == 7 && table.senders.first?.gaps == 0)
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

    @Test func aSenderThatPausesWhileOtherTrafficTurnsSourcesOffKeepsOneFlow() throws {
        let port = freeUDPPort()
        let (run, report) = try sink(port)
        let sender = StampedSender(port: port, tag: 44, flow: 1)
        for seq in 0..<10 { sender.send(sequence: UInt64(seq)) }
        #expect(waitReceived(run, 10))
        #expect(sendDatagrams(count: 500, size: 64, to: port) == 500)
        #expect(waitReceived(run, 510))
        let (_, flow) = try resume(sender, at: 10, until: 20, run: run, received: 510, report: report)
        #expect(flow.unique == 20 && flow.gaps == 0 && flow.reordered == 0)
    }

    @Test func aLowRateFlowAmongUnstampedBurstsStaysOneFlowWithNoGap() throws {
        let port = freeUDPPort()
        let (run, report) = try sink(port)
        let sender = StampedSender(port: port, tag: 45, flow: 2)
        for seq in 0..<10 { sender.send(sequence: UInt64(seq)) }
        #expect(waitReceived(run, 10))
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

import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

@Suite(.serialized) struct ShapeTests {
    @Test func imixFollowsItsWeightsAndRepeatsForTheSameSeed() throws {
        let mix = [JobSpec.SizeWeight(bytes: 64, weight: 7), .init(bytes: 576, weight: 4), .init(bytes: 1500, weight: 1)]
        var runs: [[Int: Int]] = []
        for _ in 0..<2 {
            let recorder = UDPSizeRecorder()
            let spec = JobSpec(mode: .send, target: loopback(recorder.port), durationSeconds: 10, ratePPS: 20_000,
                               sizes: mix, seed: 42, maxPackets: 2_400)
            let report = try runJob(spec)
            let sizes = recorder.drain()
            #expect(report.sent.packets == 2_400)
            #expect(sizes.values.reduce(0, +) == 2_400)
            #expect(UInt64(sizes.reduce(0) { $0 + $1.key * $1.value }) == report.sent.bytes)
            runs.append(sizes)
        }
        #expect(runs[0] == runs[1])  // same seed, same sequence
        let counts = runs[0]
        #expect(Set(counts.keys) == [64, 576, 1500])
        for entry in mix {
            let share = Double(counts[entry.bytes] ?? 0) / 2_400
            #expect(abs(share - Double(entry.weight) / 12) < 0.03, "\(entry.bytes): \(share)")
        }
    }

    @Test func fixedHexPayloadGoesOutVerbatim() throws {
        let recorder = UDPSizeRecorder()
        let spec = JobSpec(mode: .send, target: loopback(recorder.port), durationSeconds: 10, payloadHex: "abcd0001ff",
                           maxPackets: 100)
        let report = try runJob(spec)
        #expect(recorder.drain() == [5: 100])
        #expect(report.sent.bytes == 500)
    }

    @Test func rampProfileCountsFollowTheSteps() throws {
        let counter = UDPCounter()
        let steps: [JobSpec.ProfileStep] = [.init(ratePPS: 2_000, durationSeconds: 1),
                                            .init(ratePPS: 6_000, durationSeconds: 1),
                                            .init(rampToPPS: 2_000, durationSeconds: 1)]
        let report = try runJob(JobSpec(mode: .send, target: loopback(counter.port), profile: steps))
        #expect(UInt64(counter.drain().packets) == report.sent.packets)
        let perSecond = report.timeline.prefix(3).map(\.sent)
        #expect(perSecond.count == 3)
        for (got, want) in zip(perSecond, [2_000.0, 6_000, 4_000]) {
            #expect(abs(Double(got) - want) <= want * 0.02, "\(perSecond)")
        }
        #expect(abs(Double(report.sent.packets) - 12_000) <= 12_000 * 0.005)
    }

    @Test func paceHoldsTheTotalWithinHalfAPercent() throws {
        let counter = UDPCounter()
        let report = try runJob(sendSpec(to: counter.port, duration: 2, rate: 20_000))
        let arrived = counter.drain().packets
        #expect(UInt64(arrived) == report.sent.packets)
        #expect(abs(Double(arrived) - 40_000) <= 40_000 * 0.005)
    }

    @Test func sinkReportsSequenceStatisticsOfStampedSenders() throws {
        let port = freeUDPPort()
        let run = try JobRun(spec: JobSpec(mode: .sink, listen: loopback(port), durationSeconds: 3, maxPackets: 1_005))
        let done = DispatchSemaphore(value: 0)
        let box = ReportBox()
        run.start { box.report = $0; done.signal() }
        // Seqs 0..99 except 5 and 6, 10 twice, 21 before 20 — then plain datagrams and a job's own traffic.
        var order = Array(0..<100).filter { $0 != 5 && $0 != 6 }
        order.insert(10, at: order.firstIndex(of: 10)! + 1)
        order.swapAt(order.firstIndex(of: 20)!, order.firstIndex(of: 21)!)
        let stamped = StampedSender(port: port, tag: 77, flow: 3)
        for seq in order { stamped.send(sequence: UInt64(seq)) }
        sendDatagrams(count: 4, size: 10, to: port)
        let sender = try runJob(JobSpec(mode: .send, target: loopback(port), durationSeconds: 5, ratePPS: 5_000, flows: 2,
                                        maxPackets: 900))
        #expect(done.wait(timeout: .now() + 5) == .success)
        let report = try #require(box.report)
        let sequence = try #require(report.sequence)
        #expect(sequence.unstamped == 4)
        let mine = try #require(sequence.senders.first { $0.jobTag == 77 })
        #expect(mine.flow == 3 && mine.unique == 98 && mine.duplicates == 1 && mine.reordered == 1 && mine.gaps == 2)
        #expect(mine.highestSeq == 99)
        let flows = sequence.senders.filter { $0.jobTag == sender.jobTag }
        #expect(flows.count == 2)
        #expect(flows.reduce(0) { $0 + $1.unique } == 900)
        #expect(flows.allSatisfy { $0.gaps == 0 && $0.duplicates == 0 && $0.reordered == 0 })
    }

    @Test func gsoSendsTheSameDatagramsAsThePlainPath() throws {
        try #require(Capabilities.probe().udpGSO, "this kernel has no UDP GSO")
        for gso in [false, true] {
            let recorder = UDPSizeRecorder()
            let spec = JobSpec(mode: .send, target: loopback(recorder.port), durationSeconds: 10, ratePPS: 50_000,
                               payloadBytes: 200, maxPackets: 5_000, gso: gso)
            let report = try runJob(spec)
            #expect(report.sent.packets == 5_000, "gso \(gso)")
            #expect(recorder.drain() == [200: 5_000], "gso \(gso)")
            #expect(report.sent.bytes == 5_000 * 200)
            if gso { #expect(report.sent.syscalls < 5_000 / 2) }
        }
    }

    @Test func groCountsDatagramsNotSuperDatagrams() throws {
        try #require(Capabilities.probe().udpGRO && Capabilities.probe().udpGSO, "this kernel has no UDP GRO/GSO")
        for gro in [false, true] {
            let port = freeUDPPort()
            let sink = try JobRun(spec: JobSpec(mode: .sink, listen: loopback(port), durationSeconds: 3, maxPackets: 6_400,
                                                gro: gro))
            let done = DispatchSemaphore(value: 0)
            let box = ReportBox()
            sink.start { box.report = $0; done.signal() }
            let sender = try runJob(JobSpec(mode: .send, target: loopback(port), durationSeconds: 10, ratePPS: 100_000,
                                            payloadBytes: 100, maxPackets: 6_400, gso: true))
            #expect(done.wait(timeout: .now() + 5) == .success)
            let report = try #require(box.report)
            #expect(report.received.packets == sender.sent.packets, "gro \(gro)")
            #expect(report.received.bytes == sender.sent.bytes, "gro \(gro)")
            let flow = try #require(report.sequence?.senders.first)
            #expect(flow.unique == 6_400 && flow.gaps == 0, "gro \(gro)")
        }
    }

    @Test func groReflectSendsBackEveryDatagram() throws {
        try #require(Capabilities.probe().udpGRO && Capabilities.probe().udpGSO, "this kernel has no UDP GRO/GSO")
        let port = freeUDPPort()
        let reflect = try JobRun(spec: JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 3, maxPackets: 2_000,
                                               gro: true))
        let done = DispatchSemaphore(value: 0)
        reflect.start { _ in done.signal() }
        let report = try runJob(JobSpec(mode: .echo, target: loopback(port), durationSeconds: 5, ratePPS: 20_000,
                                        payloadBytes: 64, maxPackets: 2_000, echoTimeoutMilliseconds: 500))
        done.wait()
        #expect(report.echo?.received == 2_000 && report.echo?.lost == 0)
    }
}

@Suite(.serialized) struct StampSequenceTests {
    @Test func unstampedSmallDatagramsLeaveNoGaps() throws {
        let port = freeUDPPort()
        let sink = try JobRun(spec: JobSpec(mode: .sink, listen: loopback(port), durationSeconds: 5, maxPackets: 1_000))
        let done = DispatchSemaphore(value: 0)
        let box = ReportBox()
        sink.start { box.report = $0; done.signal() }
        let mix = [JobSpec.SizeWeight(bytes: 16, weight: 1), .init(bytes: 64, weight: 1)]
        let sender = try runJob(JobSpec(mode: .send, target: loopback(port), durationSeconds: 5, ratePPS: 10_000, sizes: mix,
                                        maxPackets: 1_000))
        #expect(done.wait(timeout: .now() + 5) == .success)
        let sequence = try #require(box.report?.sequence)
        let flow = try #require(sequence.senders.first { $0.jobTag == sender.jobTag })
        #expect(UInt64(flow.unique) + sequence.unstamped == 1_000)
        #expect(flow.gaps == 0)
        #expect(sequence.unstamped > 300)
    }
}

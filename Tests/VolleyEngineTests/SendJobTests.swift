import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// Send jobs into a socket the test reads with plain recv: the test's own count must equal the
/// job's `sent.packets` exactly, on the batched path, the fallback loop, and with short counts.
@Suite(.serialized) struct SendJobTests {
    /// A broadcast target is refused at set-up with a reason about sending, not about binding
    /// (it used to say "ports below 1024 need privileges").
    @Test func aBroadcastTargetIsRefusedForWhatItIs() throws {
        let spec = try JobSpec.decode(json: Data(#"{"mode":"send","target":"127.255.255.255:5000"}"#.utf8))
        #expect {
            _ = try JobRun(spec: spec)
        } throws: { error in
            guard case .sendNotPermitted = error as? EngineError else { return false }
            return "\(error)".contains("broadcast") && !"\(error)".contains("1024")
        }
    }

    @Test func pacedSendCountEqualsWhatArrived() throws {
        let receiver = UDPCounter()
        let report = try runJob(sendSpec(to: receiver.port, duration: 0.5, rate: 20_000, payload: 100))
        let arrived = receiver.drain()
        // Exactly rate × duration: the part batch still owed at the deadline (at 20,000/s a batch is
        // five datagrams, one 250 µs gap) and anything a busy machine delayed go out at the end.
        #expect(report.sent.packets == 10_000)
        #expect(UInt64(arrived.packets) == report.sent.packets)
        #expect(UInt64(arrived.bytes) == report.sent.bytes)
        #expect(report.sent.bytes == report.sent.packets * 100)
        #expect(report.sent.errors.isEmpty)
        #expect(report.io.send == IOMethod.preferred.sendName)
    }

    /// A 2 s job has two timeline seconds, not a third almost empty one (a cliff on every chart),
    /// and its seconds add up to its total.
    @Test func aPacedJobSendsExactlyRateTimesDurationAtAnyRate() throws {
        // 100,000/s × 0.1234 s = 12,340: batches of 25 (one gap) leave a part batch at the deadline.
        for (rate, duration, expected) in [(100_000, 0.1234, UInt64(12_340)), (7, 1.0, 7), (333, 0.5, 167)] {
            let receiver = UDPCounter()
            let report = try runJob(sendSpec(to: receiver.port, duration: duration, rate: rate))
            #expect(report.sent.packets == expected, "\(rate)/s for \(duration) s")
            #expect(UInt64(receiver.drain().packets) == expected)
        }
    }

    @Test func theTimelineHasNoEmptyTrailingSecond() throws {
        let receiver = UDPCounter()
        let report = try runJob(sendSpec(to: receiver.port, duration: 2, rate: 1_000, payload: 64))
        _ = receiver.drain()
        // A worker preempted at the very end may stop more than 50 ms late on a busy machine: then
        // a third, real partial second is right.
        let late = report.elapsedSeconds >= 2 + trailingSliverSeconds
        #expect(report.timeline.map(\.t) == (late ? [0, 1, 2] : [0, 1]), "elapsed \(report.elapsedSeconds) s")
        #expect(report.timeline.reduce(0) { $0 + $1.sent } == report.sent.packets)
        // No cliff: the last second's rate is as real as the others (loose bounds for a busy machine).
        #expect(report.timeline.prefix(2).allSatisfy { $0.achievedPPS > 500 && $0.achievedPPS < 1_500 }, "\(report.timeline.map(\.achievedPPS))")
    }

    @Test func maxPacketsIsExactAcrossThreads() throws {
        let receiver = UDPCounter()
        let report = try runJob(sendSpec(to: receiver.port, duration: 10, threads: 3, maxPackets: 10_001))
        #expect(report.sent.packets == 10_001)
        #expect(receiver.drain().packets == 10_001)
        #expect(report.elapsedSeconds < 5)
        #expect(!report.stoppedEarly)
    }

    @Test(arguments: IOMethod.allCases)
    func shortCountsAreContinuedNotLostOrDoubled(method: IOMethod) throws {
        var options = EngineOptions()
        options.ioMethod = method
        options.maxMessagesPerCall = 7  // every batch of 64 comes back short 9 times
        let receiver = UDPCounter()
        let report = try runJob(sendSpec(to: receiver.port, duration: 10, batch: 64, maxPackets: 6_400), options: options)
        #expect(report.sent.packets == 6_400)
        #expect(receiver.drain().packets == 6_400)
        #expect(report.sent.partialBatches == 100 * 9)
        if report.io.send == "sendmmsg" {
            #expect(method == .batched)
            #expect(report.sent.syscalls == 100 * 10)
        } else {
            #expect(report.sent.syscalls == 6_400)
        }
    }

    @Test func fallbackLoopProducesTheSameCounts() throws {
        var options = EngineOptions()
        options.ioMethod = .loop
        let receiver = UDPCounter()
        let report = try runJob(sendSpec(to: receiver.port, duration: 10, payload: 333, maxPackets: 5_000), options: options)
        #expect(report.io.send == "sendmsg")
        #expect(report.sent.packets == 5_000)
        #expect(report.sent.bytes == 5_000 * 333)
        let arrived = receiver.drain()
        #expect(arrived.packets == 5_000)
        #expect(arrived.bytes == 5_000 * 333)
        #expect(report.sent.syscalls == 5_000)
    }

    @Test func refusedTargetIsCountedAndTheJobGoesOn() throws {
        let closed = freeUDPPort()
        let report = try runJob(sendSpec(to: closed, duration: 0.3, rate: 2_000))
        #expect((report.sent.errors["connection_refused"] ?? 0) > 0)
        #expect(report.sent.packets > 100)
        #expect(!report.stoppedEarly)
    }

    @Test func zeroBytePayloadsAreDatagramsToo() throws {
        let receiver = UDPCounter()
        let report = try runJob(sendSpec(to: receiver.port, duration: 10, payload: 0, maxPackets: 500))
        #expect(report.sent.packets == 500 && report.sent.bytes == 0)
        #expect(receiver.drain().packets == 500)
    }

    @Test func stopEndsALongJobWithin50ms() throws {
        let receiver = UDPCounter()
        let started = Date()
        let report = try runJob(sendSpec(to: receiver.port, duration: 60, rate: 1_000), stopAfter: 0.2)
        let took = Date().timeIntervalSince(started)
        #expect(report.stoppedEarly)
        #expect(took < 0.2 + TestTiming.limit(0.05 + 0.1))  // 50 ms to stop, 100 ms of slack for a loaded CI machine
        #expect(UInt64(receiver.drain().packets) == report.sent.packets)
    }

    @Test func liveProgressIsVisibleWhileRunning() throws {
        let receiver = UDPCounter()
        let run = try JobRun(spec: sendSpec(to: receiver.port, duration: 0.6, rate: 10_000))
        let done = DispatchSemaphore(value: 0)
        run.start { _ in done.signal() }
        Thread.sleep(forTimeInterval: 0.3)
        let midway = run.progress()
        done.wait()
        let final = run.progress()
        #expect(midway.packetsSent > 1_000 && midway.packetsSent < final.packetsSent)
        #expect(midway.elapsedSeconds > 0.2)
        _ = receiver.drain()
    }

    @Test func rateIsHeldOverTheJob() throws {
        let receiver = UDPCounter()
        let report = try runJob(sendSpec(to: receiver.port, duration: 1, rate: 5_000, threads: 2))
        _ = receiver.drain()
        // Simple pacing: within 2% of rate × elapsed (precise pacing is measured in benchmarks).
        let expected = 5_000 * report.elapsedSeconds
        #expect(abs(Double(report.sent.packets) - expected) < expected * 0.02)
    }
}

@Suite struct SendLimitTests {
    @Test func limitBelowThreadCountSendsExactlyTheLimit() throws {
        let receiver = UDPCounter()
        let report = try runJob(sendSpec(to: receiver.port, duration: 1, threads: 3, maxPackets: 1))
        #expect(report.sent.packets == 1)
        #expect(receiver.drain().packets == 1)
        #expect(report.elapsedSeconds < TestTiming.limit(0.5), "\(report.sent)")
    }
}

import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// Which workers ask for a short scheduler slice, and that the result says what the kernel granted.
@Suite struct SchedulerSliceTests {
    /// 100 µs where the kernel honours per-task slices (Linux ≥ 6.12), absent elsewhere.
    private var expected: Int? { kernelHasPerTaskSlices ? 100 : nil }

    @Test func pacedSendsAskAndFullSpeedSendsDoNot() throws {
        let port = freeUDPPort()  // nothing listens: the datagrams are dropped at the port
        let paced = try runJob(sendSpec(to: port, duration: 0.3, rate: 2_000, threads: 2))
        #expect(paced.sent.packets == 600)
        #expect(paced.io.schedulerSliceMicroseconds == expected)
        let fullSpeed = try runJob(sendSpec(to: port, duration: 5, maxPackets: 2_000))
        #expect(fullSpeed.sent.packets == 2_000)
        #expect(fullSpeed.io.schedulerSliceMicroseconds == nil)
    }

    @Test func reflectAsksAndEchoAndSinkDoNot() throws {
        let port = freeUDPPort()
        let (reflector, reflectReport) = try launch(JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 60))
        defer { reflector.stop() }
        let echo = try runJob(JobSpec(mode: .echo, target: loopback(port), durationSeconds: 0.3, ratePPS: 200, payloadBytes: 64))
        #expect(echo.echo?.received == 60)
        #expect(echo.io.schedulerSliceMicroseconds == nil)
        reflector.stop()
        #expect(reflectReport().io.schedulerSliceMicroseconds == expected)

        let (sink, sinkReport) = try launch(JobSpec(mode: .sink, listen: loopback(freeUDPPort()), durationSeconds: 60))
        sink.stop()
        #expect(sinkReport().io.schedulerSliceMicroseconds == nil)
    }

    @Test func theSpecDecidesWhoAsks() {
        #expect(SchedulerSlice.wanted(sendSpec(to: 9, rate: 1_000)))
        #expect(!SchedulerSlice.wanted(sendSpec(to: 9, rate: JobSpec.unlimitedRate)))
        #expect(!SchedulerSlice.wanted(JobSpec(mode: .echo, target: loopback(9), durationSeconds: 1)))
        #expect(SchedulerSlice.wanted(JobSpec(mode: .reflect, listen: loopback(9), durationSeconds: 1)))
        #expect(!SchedulerSlice.wanted(JobSpec(mode: .sink, listen: loopback(9), durationSeconds: 1)))
    }
}

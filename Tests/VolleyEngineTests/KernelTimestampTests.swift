import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// `"timestamps": "kernel"`: every accepted datagram gets an app-overhead sample, and the overhead
/// is a part of what the application measured.
@Suite(.serialized) struct KernelTimestampTests {
    @Test func echoReportsTheAppOverheadOfEveryReplyBelowItsRTT() throws {
        let port = freeUDPPort()
        let (reflect, reflected) = try launch(JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 60, maxPackets: 2_000))
        defer { reflect.stop(); _ = reflected() }
        var spec = JobSpec(mode: .echo, target: loopback(port), durationSeconds: 30, ratePPS: 4_000, maxPackets: 2_000)
        spec.timestamps = .kernel
        let report = try runJob(spec)
        let echo = try #require(report.echo)
        #expect(echo.sent == 2_000 && echo.received == 2_000)
        let overhead = try #require(report.appOverhead)
        let rtt = try #require(report.latency)
        #expect(overhead.count == echo.received)
        // Each sample is a part of its own RTT, so every percentile is too.
        #expect(overhead.p50 <= rtt.p50 && overhead.p99 <= rtt.p99 && overhead.max <= rtt.max)
    }

    @Test func aSinkReportsTheAppOverheadOfEveryDatagram() throws {
        let port = freeUDPPort()
        var spec = JobSpec(mode: .sink, listen: loopback(port), durationSeconds: 30, maxPackets: 3_000)
        spec.timestamps = .kernel
        let (_, sinkReport) = try launch(spec)
        _ = try runJob(sendSpec(to: port, duration: 30, rate: 30_000, maxPackets: 3_000))
        let report = sinkReport()
        #expect(report.received.packets == 3_000)
        #expect(report.appOverhead?.count == 3_000)
    }

    @Test func withoutKernelTimestampsThereIsNoOverheadAndTheSpecSaysSo() throws {
        let report = try runJob(sendSpec(to: freeUDPPort(), duration: 0.1, rate: 1_000))
        #expect(report.appOverhead == nil)
        let kernel = try JobSpec.decode(json: Data(#"{"mode":"sink","listen":"127.0.0.1:9","timestamps":"kernel"}"#.utf8))
        #expect(kernel.timestamps == .kernel)
        #expect(throws: SpecError.self) {
            try JobSpec.decode(json: Data(#"{"mode":"send","target":"127.0.0.1:9","timestamps":"kernel"}"#.utf8))
        }
        do {
            _ = try JobSpec.decode(json: Data(#"{"mode":"echo","target":"127.0.0.1:9","timestamps":"hardware"}"#.utf8))
            Issue.record("an unknown timestamp source was accepted")
        } catch {
            #expect(error.field == "timestamps" && error.message.contains(#""app" or "kernel""#), "\(error)")
        }
    }
}

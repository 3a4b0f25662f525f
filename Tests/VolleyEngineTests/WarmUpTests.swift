import Foundation
import Glibc
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// The echo's loopback warm-up (`warm_up`): one datagram to a socket of the worker's own before a
/// request that follows a sleep. It must never reach the target, never show in the job's counts,
/// and hold nothing it does not read back.
@Suite(.serialized) struct WarmUpTests {
    private func echo(to port: UInt16, rate: Int, packets: Int) -> JobSpec {
        JobSpec(mode: .echo, target: loopback(port), durationSeconds: 5, ratePPS: rate, maxPackets: packets,
                echoTimeoutMilliseconds: 1_000)
    }

    /// At 1,000/s the thread sleeps before each request, so each is preceded by a warm-up (one fewer:
    /// the first request follows no sleep; a late thread on a busy machine may skip some). The
    /// reflector sees exactly the requests, and the send calls are exactly one per request.
    @Test func pacedEchoWarmsUpAfterSleepsAndTheTargetSeesOnlyRequests() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 5, maxPackets: 300))
        let report = try runJob(echo(to: port, rate: 1_000, packets: 300))
        let echo = try #require(report.echo)
        #expect(echo.sent == 300 && echo.received == 300)
        #expect(report.sent.packets == 300 && report.sent.syscalls == 300)
        let warmUps = try #require(report.io.warmUps)
        #expect(warmUps > 0 && warmUps < 300)
        #expect(report.io.warmUpError == nil)
        let reflect = reflected()
        #expect(reflect.received.packets == 300 && reflect.sent.packets == 300)
    }

    @Test func warmUpOffDoesNone() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 5, maxPackets: 100))
        var spec = echo(to: port, rate: 1_000, packets: 100)
        spec.warmUp = false
        let report = try runJob(spec)
        #expect(report.echo?.received == 100)
        #expect(report.io.warmUps == nil && report.io.warmUpError == nil)
        #expect(reflected().received.packets == 100)
    }

    /// A spin that covers the whole gap (`busy_poll_us` 5000 at 1,000/s: every wait is ≤ 1 ms) never
    /// sleeps, so nothing is cold and no warm-up is done.
    @Test func anEchoThatNeverSleepsDoesNotWarmUp() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 5, maxPackets: 200))
        var spec = echo(to: port, rate: 1_000, packets: 200)
        spec.busyPollMicroseconds = 5_000
        let report = try runJob(spec)
        #expect(report.echo?.received == 200)
        #expect(report.io.warmUps == 0)
        #expect(reflected().received.packets == 200)
    }

    /// The warm-up socket is connected to itself: a datagram from any other socket is not delivered
    /// to it, and each warm-up reads back what it sent, so nothing stays queued.
    @Test(arguments: ["127.0.0.1", "::1"])
    func theWarmUpSocketHearsOnlyItselfAndKeepsNothing(address: String) throws {
        let family = address.contains(":") ? AF_INET6 : AF_INET
        let warm = try KernelWarmUp(family: family)
        let own = try #require(try warm.localEndpoint())
        #expect(own.address == IPAddress(address)!)
        let stranger = try UDPSocket(family: family)
        try stranger.connect(own)
        var byte: UInt8 = 7
        for _ in 0..<20 { _ = send(stranger.fd, &byte, 1, 0) }
        #expect(!warm.hasQueued)
        for _ in 0..<100 { warm.run() }
        #expect(warm.count == 100 && warm.failure == nil)
        #expect(!warm.hasQueued)
    }
}

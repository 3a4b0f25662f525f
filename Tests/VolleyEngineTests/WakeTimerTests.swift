import Glibc
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// The echo worker's wake-up timer, seen from a blocking receive on the thread it signals.
@Suite(.serialized) struct WakeTimerTests {
    /// errno of a blocking receive on an idle socket whose own timeout is `timeoutMs`: EINTR when the
    /// timer's signal ended it, EAGAIN when the socket's timeout did.
    private func blockingReceiveErrno(timeoutMs: Int) throws -> Int32 {
        let socket = try UDPSocket(family: AF_INET)
        try socket.setTimeouts(milliseconds: timeoutMs)
        try socket.bind(loopback(0))
        var byte: UInt8 = 0
        let n = recv(socket.fd, &byte, 1, 0)
        let code = errno  // before anything else can set it
        #expect(n == -1)
        return code
    }

    @Test func anArmedDeadlineEndsABlockingReceive() throws {
        let wake = try #require(WakeTimer())
        defer { wake.close() }
        #expect(wake.arm(at: MonotonicClock.now() + 20_000_000))
        #expect(try blockingReceiveErrno(timeoutMs: 10_000) == EINTR)
    }

    /// A wait that busy polling spins from end to end disarms the timer, repeats included: no signal
    /// may land on the next request's path.
    @Test func disarmingStopsTheSignalAndItsRepeats() throws {
        let wake = try #require(WakeTimer())
        defer { wake.close() }
        #expect(wake.arm(at: MonotonicClock.now() + 20_000_000))
        #expect(wake.disarm())
        #expect(wake.armedFor == 0)
        #expect(!wake.disarm())                                     // nothing left to stop
        #expect(try blockingReceiveErrno(timeoutMs: 300) == EAGAIN)   // past the deadline and its repeats
        // A deadline already passed keeps repeating until disarmed.
        #expect(wake.arm(at: MonotonicClock.now() + 1_000_000))
        #expect(try blockingReceiveErrno(timeoutMs: 10_000) == EINTR)
        #expect(try blockingReceiveErrno(timeoutMs: 10_000) == EINTR)  // a repeat
        #expect(wake.disarm())
        #expect(try blockingReceiveErrno(timeoutMs: 300) == EAGAIN)
    }
}

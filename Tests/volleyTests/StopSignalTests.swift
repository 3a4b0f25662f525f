import Foundation
import Glibc
import Testing
import VolleyTestSupport

/// `volley serve` stops on SIGTERM even when whoever started it had SIGTERM blocked: the mask is
/// inherited across exec, and a test runner's threads block it (agents then hung at `stop()`).
@Suite struct StopSignalTests {
    @Test func anAgentStartedWithSIGTERMBlockedStillStops() throws {
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        sigaddset(&blocked, SIGINT)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let agent: AgentProcess
        do {
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
            agent = try AgentProcess()
        }
        let stopped = DispatchSemaphore(value: 0)
        let status = LockedBox<Int32?>(nil)
        Thread.detachNewThread {
            status.value = agent.stop()
            stopped.signal()
        }
        let inTime = stopped.wait(timeout: .now() + 30) == .success
        if !inTime { kill(agent.process.processIdentifier, SIGKILL) }
        #expect(inTime, "the agent ignored SIGTERM")
        if inTime { #expect(status.value == 0) }
    }
}

/// A value shared with one other thread, under a lock.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

import CBatchIO

/// The echo worker's wake-up: a per-thread timer whose signal ends a blocking receive at a
/// deadline (EINTR), so one recvmmsg waits for "a reply or the next send, whichever is first" —
/// where ppoll then recvmmsg took two system calls and a second wake-up path per reply
/// (Benchmarks/README.md, "Where echo's microseconds go"). Created and closed on the thread it
/// wakes; nil when the system refuses a timer, and the caller keeps to ppoll.
final class WakeTimer {
    /// After the deadline the signal repeats this often until the timer is armed again: should the
    /// first one land between the deadline check and the receive, the wait overruns by at most this.
    static let repeatNanos: UInt64 = 200_000
    private var timer = CBatchIO_wake_timer()
    /// The deadline last armed (monotonic ns; 0: none). It stays after the timer fired, so it is a
    /// pending deadline only while it lies after now.
    private(set) var armedFor: UInt64 = 0

    init?() {
        guard CBatchIO_wake_timer_create(&timer) == 0 else { return nil }
    }

    deinit { CBatchIO_wake_timer_delete(&timer) }

    /// Fires at `deadline` (monotonic ns, > 0: a wait's end lies after now); arming for the deadline
    /// already armed costs nothing. False when the kernel refused (then the caller must not block).
    @inline(__always)
    func arm(at deadline: UInt64) -> Bool {
        if deadline == armedFor { return true }
        guard CBatchIO_wake_timer_arm(&timer, deadline, Self.repeatNanos) == 0 else {
            armedFor = 0
            return false
        }
        armedFor = deadline
        return true
    }

    /// Disarms and deletes the timer; call on the owning thread before it ends, so no signal
    /// outlives the thread it was meant for.
    func close() { CBatchIO_wake_timer_delete(&timer) }
}

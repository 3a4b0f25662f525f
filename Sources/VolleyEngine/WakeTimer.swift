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

    /// Stops the signal, the repeats after a passed deadline included; true when that took a call
    /// (nothing was armed: nothing to do). Should the kernel refuse (it has no reason to, for a timer
    /// this thread made), the timer counts as still armed, and the next call tries again.
    @inline(__always) @discardableResult
    func disarm() -> Bool {
        guard armedFor != 0 else { return false }
        if CBatchIO_wake_timer_arm(&timer, 0, 0) == 0 { armedFor = 0 }
        return true
    }

    /// For a worker that waits in blocking receives (a reflector): a signal every `period` ns from
    /// now on ends its wait (EINTR), so it sees a stop or its deadline in time, in place of `socket`'s
    /// receive timeout, which is then cleared. The kernel arms and cancels the timeout's timer around
    /// every sleep, which put both on a reflector's path between a request and its reply; this timer
    /// is armed once. nil, and the timeout kept, when the system refuses the timer (as an echo then
    /// keeps to ppoll); when the socket refuses the change, the timer is deleted, the timeout kept,
    /// and the error thrown for the caller to count. Call on the thread it wakes, and `close()` there.
    static func periodic(every period: UInt64, clearingTimeoutOf socket: UDPSocket) throws(SocketError) -> WakeTimer? {
        guard period > 0, let wake = WakeTimer() else { return nil }
        guard CBatchIO_wake_timer_arm(&wake.timer, MonotonicClock.now() &+ period, period) == 0 else {
            wake.close()
            return nil
        }
        do {
            try socket.setReceiveTimeout(milliseconds: 0)
        } catch {
            wake.close()
            throw error
        }
        return wake
    }

    /// Disarms and deletes the timer; call on the owning thread before it ends, so no signal
    /// outlives the thread it was meant for.
    func close() { CBatchIO_wake_timer_delete(&timer) }
}

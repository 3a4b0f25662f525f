import Glibc

/// Nanoseconds on CLOCK_MONOTONIC: a vDSO read, no allocation, safe on the per-batch path.
enum MonotonicClock {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Sleeps for up to `nanoseconds` (a stop request is checked by the caller afterwards).
    static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }

    /// How long `wait` spins at the end of a wait: more than a timer's usual lateness here.
    static let defaultSpinNanos: UInt64 = 60_000

    /// Waits until `deadline` precisely: sleeps while more than `spinNanos` remain (the thread's timer
    /// slack is set low by the worker), then spins on the clock for the last stretch.
    static func wait(until deadline: UInt64, spinNanos: UInt64 = defaultSpinNanos) {
        var now = self.now()
        if deadline > now + spinNanos { sleep(nanoseconds: deadline - now - spinNanos) }
        now = self.now()
        while now < deadline { now = self.now() }
    }
}

import Glibc
import VolleyEngine

/// The agent's own threads (the HTTP threads, the clock thread) step aside for traffic workers: a
/// pacing worker that loses the CPU for a millisecond to a checkpoint or a request sends a burst
/// afterwards. Lowering our priority needs no privileges; raising the workers' would.
enum ThreadPriority {
    /// Sets the calling thread's nice value (Linux: per thread).
    static func lower(to nice: Int32) {
        // On Linux the nice value belongs to the thread, and who = 0 names the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
    }
}

/// Lowers each HTTP server thread once, on the first request it serves while traffic runs (the caller
/// decides when: `Agent` asks `JobManager.trafficRuns`). The server runs a pool of
/// threads, so "once" is per thread: a thread-specific flag, read with one `pthread_getspecific` (no
/// lock, no syscall) on every later request.
final class LowerOnce: Sendable {
    /// One key for the process: a thread is lowered at most once whichever server it serves, and
    /// agents started over and over (tests) do not use up the PTHREAD_KEYS_MAX keys.
    private static let lowered: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left")
        return key
    }()
    let nice: Int32

    init(nice: Int32) { self.nice = nice }

    func here() {
        guard pthread_getspecific(Self.lowered) == nil else { return }
        ThreadPriority.lower(to: nice)
        // A lowered thread also takes a short slice: its weight alone put its EEVDF deadline past a
        // full-speed worker's whole slice, so on a shared CPU a request waited for that slice to end
        // (API p99 0.5–1.7 ms in about half of the control-plane runs, 0.03–0.06 ms in the others).
        // With it, the woken thread preempts for the request's few µs; nice keeps its share small.
        _ = SchedulerSlice.request()
        // Any non-nil pointer means "done"; nothing is freed at thread exit.
        _ = pthread_setspecific(Self.lowered, UnsafeRawPointer(bitPattern: 1))
    }
}

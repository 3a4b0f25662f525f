import Glibc

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
        // Any non-nil pointer means "done"; nothing is freed at thread exit.
        _ = pthread_setspecific(Self.lowered, UnsafeRawPointer(bitPattern: 1))
    }
}

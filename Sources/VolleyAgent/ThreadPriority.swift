import Glibc
import Synchronization

/// The agent's own threads (the HTTP thread, the clock thread) step aside for traffic workers: a
/// pacing worker that loses the CPU for a millisecond to a checkpoint or a request sends a burst
/// afterwards. Lowering our priority needs no privileges; raising the workers' would.
enum ThreadPriority {
    /// Sets the calling thread's nice value (Linux: per thread).
    static func lower(to nice: Int32) {
        // On Linux the nice value belongs to the thread, and who = 0 names the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
    }
}

/// Lowers the HTTP server's (single) thread once, on its first request.
final class LowerOnce: Sendable {
    private let done = Atomic<Bool>(false)
    let nice: Int32

    init(nice: Int32) { self.nice = nice }

    func here() {
        if !done.exchange(true, ordering: .relaxed) { ThreadPriority.lower(to: nice) }
    }
}

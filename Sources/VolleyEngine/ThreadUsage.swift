import CBatchIO
import VolleyModel

/// A worker thread's own CPU time and context switches (getrusage RUSAGE_THREAD), so a result says
/// what its traffic cost: a `busy_poll_us` spin shows as CPU time without voluntary switches, a
/// sleeping pacer as a switch per wait, a crowded CPU as involuntary switches.
struct ThreadUsage: Sendable, Equatable {
    var cpuNanos: UInt64 = 0
    /// Times the thread blocked (a sleep, a blocking receive).
    var voluntarySwitches: UInt64 = 0
    /// Times the scheduler took the CPU from it.
    var involuntarySwitches: UInt64 = 0

    /// The calling thread's usage so far; nil if the kernel refuses (then nothing is reported).
    static func current() -> ThreadUsage? {
        var raw = CBatchIO_thread_usage()
        guard CBatchIO_get_thread_usage(&raw) == 0 else { return nil }
        return ThreadUsage(cpuNanos: raw.cpu_ns, voluntarySwitches: raw.voluntary_switches,
                           involuntarySwitches: raw.involuntary_switches)
    }

    /// What was used between `earlier` and this reading (the counters only grow; a wrap reads 0).
    func since(_ earlier: ThreadUsage) -> ThreadUsage {
        ThreadUsage(cpuNanos: cpuNanos.subtractingSaturated(earlier.cpuNanos),
                    voluntarySwitches: voluntarySwitches.subtractingSaturated(earlier.voluntarySwitches),
                    involuntarySwitches: involuntarySwitches.subtractingSaturated(earlier.involuntarySwitches))
    }

    static func + (a: ThreadUsage, b: ThreadUsage) -> ThreadUsage {
        ThreadUsage(cpuNanos: a.cpuNanos.addingSaturated(b.cpuNanos),
                    voluntarySwitches: a.voluntarySwitches.addingSaturated(b.voluntarySwitches),
                    involuntarySwitches: a.involuntarySwitches.addingSaturated(b.involuntarySwitches))
    }
}

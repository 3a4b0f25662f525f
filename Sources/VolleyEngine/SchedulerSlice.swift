import CBatchIO
import VolleyModel

/// The scheduler slice a latency-minded worker asks for: paced senders (a timer wakes them every
/// few hundred µs) and reflectors. With the default slice (1.4 ms on the 2-CPU test VMs, as
/// sched_getattr reports it) a woken worker can wait for whatever holds its CPU to finish its slice
/// (a `jq` start-up, a compiler): the pacing stall traced in Benchmarks/README.md ("The pacing
/// stall"). A 100 µs slice gives it an earlier deadline, so EEVDF lets it preempt. Unprivileged;
/// Linux ≥ 6.12 honours it; an older kernel reads back no such slice and the result reports none.
enum SchedulerSlice {
    static let nanos: UInt64 = 100_000

    /// Asks for the short slice on the calling thread; the slice granted in µs, or nil when the kernel
    /// did not take it (older kernel, another policy such as SCHED_FIFO set by the operator, refusal).
    static func request() -> Int? {
        let granted = CBatchIO_request_slice(nanos)
        guard granted > 0, UInt64(granted) == nanos else { return nil }
        return Int(granted / 1000)
    }

    /// Whether a worker of this job asks for it: a paced sender and a reflector, which wait for a time
    /// or a datagram and should run as soon as it comes. Not a full-speed sender (it never sleeps, and
    /// shorter slices would only switch it out more often), nor a sink (throughput, never answers
    /// anyone), nor an echo: a reflector woken on the echo's CPU then preempts the echo as its send
    /// returns, so the reply finds the echo runnable instead of asleep in its receive (one wake-up
    /// less per round trip: same-CPU RTT p50 12.6 → 11.7 µs, Benchmarks/README.md).
    static func wanted(_ spec: JobSpec) -> Bool {
        switch spec.mode {
        case .send: !RateSchedule(spec: spec).isUnlimited
        case .reflect: true
        case .echo, .sink: false
        }
    }
}

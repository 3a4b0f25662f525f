import CBatchIO
import Glibc
import Synchronization

/// A job's `cpu_latency_us`: a Linux PM QoS CPU latency request (`/dev/cpu_dma_latency`), held
/// only while the job's traffic runs. On a VM whose idle vCPUs halt, a wake-up (a reply arriving,
/// a pacing timer) waits for the host to run the halted vCPU again; with the request at 0 idle
/// CPUs poll instead, and a wake-up across CPUs is an ordinary one (Benchmarks/README.md, "Idle
/// CPUs that poll"). Host-wide and costly: every idle CPU spins while it is held.
///
/// The descriptor is opened when the job is set up (it then holds a request at the device's
/// default, which constrains nothing, and counts as one of the job's descriptors), lowered to the
/// job's value when the traffic starts, and closed when it ends; the kernel also drops the request
/// if the process dies, so nothing outlives the agent.
public final class CPULatencyRequest: Sendable {
    public static let devicePath = "/dev/cpu_dma_latency"

    let microseconds: Int
    /// The descriptor, -1 once released.
    private let fd: Mutex<Int32>

    /// Opens the device; nothing is constrained until `apply()`.
    init(microseconds: Int, path: String = CPULatencyRequest.devicePath) throws(EngineError) {
        let opened = CBatchIO_cpu_latency_open(path)
        guard opened >= 0 else { throw EngineError.cpuLatencyUnavailable(path: path, errno: -opened) }
        self.microseconds = microseconds
        fd = Mutex(opened)
    }

    /// Whether a request can be held here (the device exists and may be opened for writing); opens
    /// and closes it at once.
    static func probe(path: String = CPULatencyRequest.devicePath) throws(EngineError) {
        let opened = CBatchIO_cpu_latency_open(path)
        guard opened >= 0 else { throw EngineError.cpuLatencyUnavailable(path: path, errno: -opened) }
        close(opened)
    }

    /// Lowers the request to the job's value. Returns the system's limit read back afterwards (the
    /// smallest request of anyone, so at most the job's), or nil when the kernel did not take it.
    func apply() -> Int? {
        fd.withLock { fd -> Int? in
            guard fd >= 0, CBatchIO_cpu_latency_set(fd, Int32(clamping: microseconds)) == 0 else { return nil }
            let limit = CBatchIO_cpu_latency_read(fd)
            return limit >= 0 ? Int(limit) : nil
        }
    }

    /// Drops the request (safe to call more than once).
    func release() {
        fd.withLock { fd in
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
        }
    }

    deinit { release() }
}

import VolleyModel

/// Knobs of the engine that are not part of a job spec: defaults for production, seams for tests.
public struct EngineOptions: Sendable {
    /// Sources a reflect job may answer (the agent's allowlist); loopback only by default.
    public var peerAllowlist: [CIDR] = CIDR.loopback
    /// The agent's cap on any job's datagrams per second; reflect replies are held to it too.
    public var maxRatePPS: Int?
    /// Which calls move batches; `IOMethod.preferred` unless a test forces the fallback loop.
    public var ioMethod: IOMethod = .preferred
    /// Blocking socket calls time out after this long so workers notice a stop request.
    public var socketTimeoutMilliseconds = 20
    /// Socket buffer size asked for on every worker socket (the kernel may grant less).
    public var socketBufferBytes: Int32 = 4 << 20
    /// Test seam: hand the kernel at most this many messages per call, to exercise the engine's
    /// handling of a short sendmmsg count (the kernel may always return fewer than asked).
    public var maxMessagesPerCall: Int?
    /// Test seam: override the send buffer size (a tiny buffer makes non-blocking sends come back short).
    public var sendBufferBytes: Int32?
    /// Test seam: make some send calls fail with a chosen errno before they reach the kernel, to
    /// exercise `SendPolicy` with errors loopback never produces (ENOBUFS, EPERM, EMSGSIZE).
    public var sendFault: SendFault?
    /// A one-flow echo worker waits for replies in a blocking receive that a per-thread timer ends
    /// at the deadline (`WakeTimer`). Test seam: false waits with ppoll, as when the system refuses
    /// the timer.
    public var echoWakeTimer = true
    /// Unstamped datagrams in a row after which a sink stops asking for sources (`SourceReading`).
    /// Test seam: a small value makes a test's sink switch after a few datagrams.
    public var sinkSourcesQuietAfter = SourceReading.defaultQuietAfter

    /// The PM QoS CPU latency device a job's `cpu_latency_us` holds a request on. Test seam: a path
    /// that cannot be opened makes the refusal testable on any host.
    public var cpuLatencyDevice = CPULatencyRequest.devicePath

    public init() {}
}

/// Which send calls a test makes fail: call numbers (counted from 1, across the job's workers) where
/// `(call - 1) % every == 0`, up to `times` of them, each failing with `errno`. Every injected
/// failure's monotonic time is logged, so a test can compare it with the stamps that went out.
public final class SendFault: Sendable {
    public let errno: Int32
    public let every: Int
    public let times: Int
    private let state = Locked<(calls: Int, failures: [UInt64])>((0, []))

    public init(errno: Int32, every: Int, times: Int = .max) {
        self.errno = errno
        self.every = max(1, every)
        self.times = times
    }

    /// Counts a call; true when this one is to fail.
    func fails() -> Bool {
        state.withLock { s in
            s.calls += 1
            guard (s.calls - 1) % every == 0, s.failures.count < times else { return false }
            s.failures.append(MonotonicClock.now())
            return true
        }
    }

    /// When the injected failures happened (monotonic ns), oldest first.
    public var failureTimes: [UInt64] { state.withLock { $0.failures } }
}

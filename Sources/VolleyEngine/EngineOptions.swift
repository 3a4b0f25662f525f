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

    public init() {}
}

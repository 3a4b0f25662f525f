import CBatchIO

/// What this host's kernel and build can do, probed on throw-away sockets (never assumed).
public struct Capabilities: Codable, Equatable, Sendable {
    public var sendmmsg: Bool
    public var recvmmsg: Bool
    public var udpGSO: Bool
    public var udpGRO: Bool
    /// A PM QoS CPU latency request can be held (`cpu_latency_us`): the device exists and this
    /// process may open it for writing.
    public var cpuLatency: Bool
    /// Why not, when the probe could not open the device (kept for refusals and the start-up log;
    /// not part of the encoded capabilities).
    public var cpuLatencyProblem: EngineError?

    public static func probe(cpuLatencyDevice: String = CPULatencyRequest.devicePath) -> Capabilities {
        var problem: EngineError?
        do throws(EngineError) {
            try CPULatencyRequest.probe(path: cpuLatencyDevice)
        } catch {
            problem = error
        }
        return Capabilities(sendmmsg: CBatchIO_built_with_mmsg() && CBatchIO_probe_sendmmsg(),
                            recvmmsg: CBatchIO_built_with_mmsg() && CBatchIO_probe_recvmmsg(),
                            udpGSO: CBatchIO_probe_udp_segment(), udpGRO: CBatchIO_probe_udp_gro(),
                            cpuLatency: problem == nil, cpuLatencyProblem: problem)
    }

    enum CodingKeys: String, CodingKey {
        case sendmmsg, recvmmsg
        case udpGSO = "udp_gso"
        case udpGRO = "udp_gro"
        case cpuLatency = "cpu_latency"
    }
}

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

    public static func probe() -> Capabilities {
        Capabilities(sendmmsg: CBatchIO_built_with_mmsg() && CBatchIO_probe_sendmmsg(),
                     recvmmsg: CBatchIO_built_with_mmsg() && CBatchIO_probe_recvmmsg(),
                     udpGSO: CBatchIO_probe_udp_segment(), udpGRO: CBatchIO_probe_udp_gro(),
                     cpuLatency: (try? CPULatencyRequest.probe()) != nil)
    }

    enum CodingKeys: String, CodingKey {
        case sendmmsg, recvmmsg
        case udpGSO = "udp_gso"
        case udpGRO = "udp_gro"
        case cpuLatency = "cpu_latency"
    }
}

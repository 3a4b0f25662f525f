/// Volley's release, reported by `GET /v1/agent`, `volley version` and every result.
public enum Volley {
    public static let version = "0.1.0"
}

/// `GET /v1/agent`: who this agent is and what its kernel can do.
public struct AgentInfo<Capabilities: Codable & Sendable>: Codable, Sendable {
    public var name = "volley"
    public var version = Volley.version
    public var hostname: String
    public var time: Timestamp
    public var capabilities: Capabilities
    public var store: StoreInfo

    public init(hostname: String, time: Timestamp, capabilities: Capabilities, store: StoreInfo) {
        self.hostname = hostname
        self.time = time
        self.capabilities = capabilities
        self.store = store
    }
}

/// The data folder's health: files found unreadable at start-up and moved to `quarantine/`.
public struct StoreInfo: Codable, Sendable {
    public var quarantined: [String]
    public init(quarantined: [String]) { self.quarantined = quarantined }
}

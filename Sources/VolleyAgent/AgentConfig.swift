import Foundation
import VolleyModel

/// How an agent is set up: where it listens, where it keeps results, and what it may send to.
public struct AgentConfig: Sendable {
    /// Address to listen on: an IP literal (`127.0.0.1`, `::1`).
    public var host: String
    /// TCP port; 0 picks a free one.
    public var port: UInt16
    /// Folder for result files (`<dataDir>/results/<id>.json`); created if missing.
    public var dataDirectory: URL
    /// Addresses jobs may target or listen on; loopback only by default.
    public var allowlist: [CIDR]
    /// Largest request body accepted; larger ones are answered 413.
    public var maxBodyBytes = 64 * 1024

    public init(host: String = "127.0.0.1", port: UInt16 = 8080, dataDirectory: URL,
                allowlist: [CIDR] = CIDR.loopback) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.allowlist = allowlist
    }
}

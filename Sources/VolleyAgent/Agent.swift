import Foundation
import Glibc
import Logging
import MicroHTTP
import VolleyEngine
import VolleyModel

/// The `volley serve` daemon: the HTTP API over libmicrohttpd, backed by a job manager and result store.
public final class Agent: Sendable {
    public let config: AgentConfig
    /// The TCP port actually listened on (differs from `config.port` when that was 0).
    public let port: UInt16
    private let jobs: JobManager
    private let server: HTTPServer
    private let logger: Logger

    /// Probes capabilities, loads stored results and starts listening. Fails with a message a person
    /// can act on when the data folder or the listen address cannot be used.
    public init(config: AgentConfig, logger: Logger) throws(AgentStartError) {
        self.config = config
        self.logger = logger
        let store: ResultStore
        do {
            store = try ResultStore(dataDirectory: config.dataDirectory)
        } catch {
            throw AgentStartError(message: "data folder: \(error.message)")
        }
        let hostname = Self.hostname()
        let capabilities = Capabilities.probe()
        let jobs = JobManager(store: store, allowlist: config.allowlist,
                              agent: .init(hostname: hostname, version: Volley.version),
                              capabilities: capabilities, logger: logger)
        self.jobs = jobs
        let router = Routes.make(jobs: jobs, hostname: hostname, capabilities: capabilities)
        let tooLarge = APIError(status: 413, code: "body_too_large",
                                "request body is larger than \(config.maxBodyBytes) bytes").response
        do {
            server = try HTTPServer(host: config.host, port: config.port, maxBodyBytes: config.maxBodyBytes,
                                    tooLarge: tooLarge, handler: router.respond(to:))
        } catch {
            throw AgentStartError(message: error.message)
        }
        port = server.port
        logger.info("capabilities probed", metadata: [
            "sendmmsg": "\(capabilities.sendmmsg)", "recvmmsg": "\(capabilities.recvmmsg)",
            "udp_gso": "\(capabilities.udpGSO)", "udp_gro": "\(capabilities.udpGRO)",
        ])
    }

    /// Stops the API, then stops running jobs; their partial results are stored as `cancelled`.
    public func shutdown() {
        server.stop()
        jobs.stopAll()
        logger.info("agent stopped")
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The agent could not start; `message` says why and what to change.
public struct AgentStartError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

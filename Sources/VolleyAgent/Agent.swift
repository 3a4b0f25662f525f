import Foundation
import Glibc
import Logging
import MicroHTTP
import VolleyEngine
import VolleyModel

/// The `volley serve` daemon: the HTTP API over libmicrohttpd, backed by a job manager and the data folder.
public final class Agent: Sendable {
    public let config: AgentConfig
    /// The TCP port actually listened on (differs from `config.port` when that was 0).
    public let port: UInt16
    private let jobs: JobManager
    private let server: HTTPServer
    private let logger: Logger

    /// Probes capabilities, recovers the data folder and starts listening. Fails with a message a
    /// person can act on when the data folder or the listen address cannot be used.
    public init(config: AgentConfig, logger: Logger) throws(AgentStartError) {
        self.config = config
        self.logger = logger
        let store: JobStore
        do {
            store = try JobStore(dataDirectory: config.dataDirectory)
        } catch {
            throw AgentStartError(message: "data folder: \(error.message)")
        }
        _ = ThreadLauncher.shared  // created here, at full priority, before any thread is lowered
        let hostname = Self.hostname()
        var capabilities = Capabilities.probe()
        // An operator's --deny-cpu-latency: the agent says it cannot, so fleets leave it out up front.
        if !config.limits.allowCPULatency {
            capabilities.cpuLatency = false
            capabilities.cpuLatencyProblem = nil  // refused by the limit, with its own message
        }
        let metrics = AgentMetrics(version: Volley.version)
        let jobs = JobManager(store: store, config: config, agent: .init(hostname: hostname, version: Volley.version),
                              capabilities: capabilities, metrics: metrics, logger: logger)
        self.jobs = jobs
        jobs.start()
        let router = Routes.make(jobs: jobs, hostname: hostname, capabilities: capabilities, metrics: metrics)
        let gate = AccessGate(token: config.token)
        let browsers = BrowserGuard(serverNames: config.serverNames, hasToken: config.token != nil)
        let tooLarge = APIError(.bodyTooLarge, "request body is larger than \(config.maxBodyBytes) bytes").response
        let limits = HTTPServer.Limits()
        // Answered by the server itself to a connection past `limits.connections`, like `tooLarge`.
        let busy = APIError(.serverBusy, "the agent holds \(limits.connections) connections already; try again in a moment",
                            headers: ["Retry-After": "1", "Connection": "close"]).response
        let log = logger
        let apiThread = LowerOnce(nice: 5)
        let tally = metrics.requestTally(routes: router.names + ["refused", "unauthorized"])
        let (refused, unauthorized) = (tally.routes.count - 2, tally.routes.count - 1)
        do {
            server = try HTTPServer(host: config.host, port: config.port, maxBodyBytes: config.maxBodyBytes,
                                    tls: config.tls.map { HTTPServer.TLS(certificatePEM: $0.certificate, keyPEM: $0.key) },
                                    limits: limits, tooLarge: tooLarge, busy: busy) { request in
                // Step aside for traffic workers once there are some (a thread stays lowered: raising
                // it again needs a privilege). An idle agent's API keeps the default priority: at nice
                // 5 it lost the CPU to anything else the machine ran, 0.59× against 0.86× a bare
                // libmicrohttpd on a shared 2-core VM (Benchmarks/README.md, control plane).
                if jobs.trafficRuns { apiThread.here() }
                // The request is timed only for its log line: at `--log-level warning` the two clock
                // reads were 0.5 % of the CPU a `GET /v1/jobs/{id}` cost, for nothing.
                let timed = log.logLevel <= .info
                let started = timed ? DispatchTime.now().uptimeNanoseconds : 0
                let response: HTTPResponse, route: Int
                if let refusal = browsers.refusal(request) {
                    (response, route) = (refusal.response, refused)
                } else if !gate.allows(request) {
                    (response, route) = (gate.refusal, unauthorized)
                } else {
                    (response, route) = router.respond(to: request)
                }
                tally.count(route: route, status: response.status)
                guard timed else { return response }
                let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                log.info("request", metadata: ["http.method": "\(BrowserGuard.printable(request.method))",
                                               "http.path": "\(BrowserGuard.printable(request.path))",
                                               "http.status": "\(response.status)", "http.ms": "\(String(format: "%.3f", ms))"])
                return response
            }
        } catch {
            jobs.stop()  // its threads end with the failed start
            throw AgentStartError(message: error.message)
        }
        port = server.port
        logger.info("capabilities probed", metadata: [
            "sendmmsg": "\(capabilities.sendmmsg)", "recvmmsg": "\(capabilities.recvmmsg)",
            "udp_gso": "\(capabilities.udpGSO)", "udp_gro": "\(capabilities.udpGRO)",
            "cpu_latency": "\(capabilities.cpuLatency)",
        ])
        if let problem = capabilities.cpuLatencyProblem {
            logger.info("jobs with cpu_latency_us will be refused", metadata: ["reason": "\(problem)"])
        }
    }

    /// Stops the API, then cancels active jobs; their results are stored as `cancelled`.
    public func shutdown() {
        server.stop()
        jobs.stopAll()
        jobs.stop()
        logger.info("agent stopped")
    }

    public static func hostname() -> String {
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

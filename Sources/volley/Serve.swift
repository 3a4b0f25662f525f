import ArgumentParser
import Foundation
import Glibc
import Logging
import VolleyAgent
import VolleyModel

/// `volley serve`: run the agent until SIGINT or SIGTERM.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Volley agent: an HTTP API that runs UDP jobs and keeps their results.",
        discussion: """
            Example:
              volley serve --listen 127.0.0.1:8080 --data-dir ./var --allow 10.20.0.0/16
            Loopback (127.0.0.0/8, ::1) is always allowed as a target; --allow adds more.
            SIGINT or SIGTERM stops the agent; running jobs are stopped and their results kept as 'cancelled'.
            """
    )

    @Option(help: "Address and port for the HTTP API, host:port or [v6]:port (port 0 picks a free one).")
    var listen = "127.0.0.1:8080"

    @Option(help: "Folder for result files; created if missing.")
    var dataDir = "./var"

    @Option(help: ArgumentHelp("Also allow jobs to target or listen on this address block (repeatable).", valueName: "CIDR"))
    var allow: [String] = []

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        _ = try ListenAddress(listen)
        for block in allow where CIDR(block) == nil {
            throw ValidationError("--allow '\(block)' is not an address block such as 10.0.0.0/8 or fd00::/8")
        }
    }

    func run() throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "volley")
        let address = try ListenAddress(listen)
        let config = AgentConfig(host: address.host, port: address.port,
                                 dataDirectory: URL(fileURLWithPath: dataDir, isDirectory: true),
                                 allowlist: CIDR.loopback + allow.compactMap(CIDR.init))

        // Block the stop signals before any thread exists, so every thread inherits the mask and
        // only sigwait below receives them.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)

        let agent: Agent
        do {
            agent = try Agent(config: config, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("volley: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
        let shown = address.host.contains(":") ? "[\(address.host)]" : address.host
        logger.info("listening on http://\(shown):\(agent.port)", metadata: ["data_dir": "\(config.dataDirectory.path)"])

        var received: Int32 = 0
        sigwait(&signals, &received)
        logger.info("stopping", metadata: ["signal": "\(received == SIGINT ? "SIGINT" : "SIGTERM")"])
        agent.shutdown()
    }
}

/// `host:port` for the API listener; unlike a job endpoint, port 0 is allowed.
struct ListenAddress {
    var host: String
    var port: UInt16

    init(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw ValidationError("--listen '\(text)' must be host:port, e.g. 127.0.0.1:8080 or [::1]:8080")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { host = "127.0.0.1" }
        guard IPAddress(host) != nil else {
            throw ValidationError("--listen '\(text)': '\(host)' is not an IP address")
        }
        self.host = host
        self.port = port
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

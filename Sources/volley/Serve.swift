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
            Examples:
              volley serve --listen 127.0.0.1:8080 --data-dir ./var
              VOLLEY_TOKEN=s3cret volley serve --listen 0.0.0.0:8080 --allow 2001:db8:53::/48 --max-rate-pps 200000
            Loopback (127.0.0.0/8, ::1) is always allowed as a target; --allow adds more.
            A non-loopback --listen needs a token (--token-file or VOLLEY_TOKEN) unless --insecure-no-auth.
            SIGINT or SIGTERM stops the agent: active jobs are cancelled and their results kept.
            """
    )

    @Option(help: "Address and port for the HTTP API, host:port or [v6]:port (port 0 picks a free one).")
    var listen = "127.0.0.1:8080"

    @Option(help: "Data folder (jobs/, results/, quarantine/); created if missing.")
    var dataDir = "./var"

    @Option(help: ArgumentHelp("Also allow jobs to target or listen on this address block (repeatable).", valueName: "CIDR"))
    var allow: [String] = []

    @OptionGroup(title: "Security") var security: SecurityOptions
    @OptionGroup(title: "Limits") var limits: LimitOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log format: text, or json (one object per line).")
    var logFormat: LogFormat = .text

    func validate() throws {
        guard !dataDir.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--data-dir is empty: give a folder (it is created if missing)")
        }
        let address = try ListenAddress(listen)
        for block in allow where CIDR(block) == nil {
            throw ValidationError("--allow '\(block)' is not an address block such as fd00::/8 or 2001:db8::/32")
        }
        let loopback = CIDR.loopback.contains { $0.contains(IPAddress(address.host)!) }
        let token = try security.token()
        if !loopback && token == nil && !security.insecureNoAuth {
            throw ValidationError("""
                --listen \(listen) is reachable from other hosts, but no token is set. Put one in a file and pass \
                --token-file FILE, or set VOLLEY_TOKEN; or pass --insecure-no-auth to run without one.
                """)
        }
        try security.validate()
        try limits.validate()
    }

    func run() throws {
        let level = logLevel
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler: LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "volley")
        let address = try ListenAddress(listen)
        var config = AgentConfig(host: address.host, port: address.port,
                                 dataDirectory: URL(fileURLWithPath: dataDir, isDirectory: true),
                                 allowlist: CIDR.loopback + allow.compactMap(CIDR.init))
        config.token = try security.token()
        config.serverNames = security.serverName
        config.tls = try security.tls()
        config.limits = limits.agentLimits

        StopSignals.install()
        signal(SIGPIPE, SIG_IGN)

        let agent: Agent
        do {
            agent = try Agent(config: config, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("volley: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
        let shown = address.host.contains(":") ? "[\(address.host)]" : address.host
        let scheme = config.tls == nil ? "http" : "https"
        logger.info("listening on \(scheme)://\(shown):\(agent.port)", metadata: [
            "data_dir": "\(config.dataDirectory.path)", "auth": "\(config.token == nil ? "none" : "bearer")",
        ])

        let received = StopSignals.wait()
        logger.info("stopping", metadata: ["signal": "\(received == SIGINT ? "SIGINT" : "SIGTERM")"])
        agent.shutdown()
    }
}

enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
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

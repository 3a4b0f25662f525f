import Foundation
import Glibc

/// Test hosts on this machine (`scripts/testhosts.sh`): a router namespace with a bridge and
/// `hosts` namespaces on it, 198.18.0.11… and fd00:198:18::11…, the last two also joined by a
/// 9000-MTU link on 198.19.0.0/24. Made with a unique id per instance and torn down by
/// `shutdown()` (also from `deinit`), so a failed or parallel test leaves nothing behind. The
/// instance also holds a throw-away CA, a server certificate for every host address and an API
/// token; the namespaces trust the CA. Clients run in the router namespace: the test process itself
/// lives in the host's namespace and cannot reach 198.18.0.0/15.
public final class TestHosts: @unchecked Sendable {  // set up in init, then read; `down` is idempotent
    public let id: String
    public let hosts: Int
    public let directory: URL
    public var caFile: URL { directory.appendingPathComponent("ca.pem") }
    public var certificateFile: URL { directory.appendingPathComponent("agent.pem") }
    public var keyFile: URL { directory.appendingPathComponent("agent.key") }
    public var tokenFile: URL { directory.appendingPathComponent("token") }
    private var agents: [HostAgent] = []
    private let lock = NSLock()

    static let bash = URL(fileURLWithPath: "/bin/bash")

    public static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/testhosts.sh")
    }

    /// Why test hosts cannot be made here, or nil when they can (root with iproute2).
    public static var unavailableReason: String? {
        if getuid() != 0 { return "network namespaces need root (CAP_NET_ADMIN); uid \(getuid())" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") { return "iproute2 (/usr/sbin/ip) is not installed" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") { return "openssl is not installed" }
        return nil
    }

    /// Makes the hosts, or prints one `SKIPPED:` line (which `make test` repeats at its end) and
    /// returns nil where this machine cannot.
    public static func make(hosts: Int = 3, suite: String) throws -> TestHosts? {
        if let reason = unavailableReason {
            print("SKIPPED: \(suite): \(reason)")
            return nil
        }
        return try TestHosts(hosts: hosts)
    }

    private init(hosts: Int) throws {
        self.hosts = hosts
        id = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10)).lowercased()
        directory = AgentProcess.temporaryDirectory()
        try makeCredentials()
        let up = try capture(Self.bash, [Self.script.path, "up", id, String(hosts)], timeout: 60,
                             environment: ["TESTHOSTS_CA": caFile.path])
        guard up.status == 0 else {
            _ = try? capture(Self.bash, [Self.script.path, "down", id], timeout: 60)
            throw TestHostsError(message: "testhosts up failed (\(up.status)): \(up.stdout)\(up.stderr)")
        }
    }

    deinit { shutdown() }

    /// Stops every agent and deletes the namespaces (idempotent).
    public func shutdown() {
        let running = lock.withLock { () -> [HostAgent] in
            defer { agents = [] }
            return agents
        }
        for agent in running { agent.stop() }
        // `down` also kills whatever still runs in the namespaces; its failure would leave them for
        // the leak check in `make test` to report, so it is reported here too.
        if let down = try? capture(Self.bash, [Self.script.path, "down", id], timeout: 60), down.status != 0 {
            print("testhosts down \(id) failed: \(down.stderr)")
        }
    }

    public var router: String { "volley-th-r-\(id)" }
    public func namespace(_ host: Int) -> String { "volley-th-h\(host)-\(id)" }
    public func address(_ host: Int) -> String { "198.18.0.\(10 + host)" }
    public func address6(_ host: Int) -> String { "fd00:198:18::\(10 + host)" }
    /// The jumbo link's address of one of the last two hosts.
    public func jumboAddress(_ host: Int) -> String { "198.19.0.\(10 + host)" }

    /// Runs a command inside a namespace; stdout and stderr apart.
    public func run(in namespace: String, _ arguments: [String], timeout: Double = 120) throws
        -> (status: Int32, stdout: String, stderr: String) {
        try capture(URL(fileURLWithPath: "/usr/sbin/ip"), ["netns", "exec", namespace] + arguments, timeout: timeout)
    }

    /// Runs `volley ARGS` in the router namespace (where the clients live).
    public func volley(_ arguments: [String], timeout: Double = 120) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(in: router, [AgentProcess.binary.path] + arguments, timeout: timeout)
    }

    /// Starts `volley serve` on a host's address (HTTPS with the test CA's certificate and the token,
    /// `--allow 198.18.0.0/15`, unless `secure` is false) and waits for it to listen.
    public func startAgent(host: Int, port: UInt16 = 8443, secure: Bool = true, extra: [String] = []) throws -> HostAgent {
        var arguments = [AgentProcess.binary.path, "serve", "--listen", "\(address(host)):\(port)",
                         "--data-dir", directory.appendingPathComponent("data-\(host)-\(port)").path,
                         "--allow", "198.18.0.0/15", "--allow", "fd00::/8"]
        if secure {
            arguments += ["--token-file", tokenFile.path, "--tls-cert", certificateFile.path, "--tls-key", keyFile.path]
        }
        let agent = try HostAgent(namespace: namespace(host), arguments: arguments + extra,
                                  url: "\(secure ? "https" : "http")://\(address(host)):\(port)")
        lock.withLock { agents.append(agent) }
        return agent
    }

    /// A CA and one certificate for every address a host can have, and a token.
    private func makeCredentials() throws {
        let d = directory.path
        var names = (1...8).flatMap { ["IP:198.18.0.\(10 + $0)", "IP:198.19.0.\(10 + $0)", "IP:fd00:198:18::\(10 + $0)"] }
        names.append("DNS:volley-agents.test")
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
             "-keyout", "\(d)/ca.key", "-out", "\(d)/ca.pem", "-subj", "/CN=Volley test hosts CA \(id)"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "\(d)/agent.key", "-out", "\(d)/agent.csr", "-subj", "/CN=volley test agent"],
            ["x509", "-req", "-in", "\(d)/agent.csr", "-CA", "\(d)/ca.pem", "-CAkey", "\(d)/ca.key", "-CAcreateserial",
             "-days", "2", "-out", "\(d)/agent.pem", "-extfile", "\(d)/ext.cnf"],
        ]
        try Data("subjectAltName=\(names.joined(separator: ","))\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n".utf8)
            .write(to: directory.appendingPathComponent("ext.cnf"))
        for step in steps {
            let r = try capture(URL(fileURLWithPath: "/usr/bin/openssl"), step, timeout: 60)
            guard r.status == 0 else { throw TestHostsError(message: "openssl \(step[0]) failed: \(r.stderr)") }
        }
        try Data("th-\(id)-\(UUID().uuidString)\n".utf8).write(to: tokenFile)
    }
}

/// dnsmasq in the router namespace, answering on 198.18.0.1:53 (where every namespace's
/// resolv.conf points) from a hosts file: one name with an A or AAAA record per agent, as a
/// Kubernetes headless Service gives. `publish` rewrites the file and makes dnsmasq re-read it.
public final class TestDNS: @unchecked Sendable {  // set up in init, then read
    public let name: String
    private let process: Spawned
    private let hostsFile: URL

    public init(_ hosts: TestHosts, name: String = "volley-agents.test", addresses: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/dnsmasq") else {
            throw TestHostsError(message: "dnsmasq is not installed (make test installs dnsmasq-base)")
        }
        self.name = name
        hostsFile = hosts.directory.appendingPathComponent("dns-hosts")
        try Self.write(addresses, name: name, to: hostsFile)
        process = try Spawned("/usr/sbin/ip", ["netns", "exec", hosts.router, "/usr/sbin/dnsmasq", "--keep-in-foreground",
                                               "--no-resolv", "--no-hosts", "--addn-hosts=\(hostsFile.path)",
                                               "--listen-address=198.18.0.1", "--bind-interfaces", "--port=53",
                                               "--local-ttl=0", "--pid-file=", "--user=root", "--log-facility=-"])
        // Ready when it answers: `getent` in the router resolves through 198.18.0.1.
        let deadline = Date().addingTimeInterval(20)
        while try capture(URL(fileURLWithPath: "/usr/sbin/ip"), ["netns", "exec", hosts.router, "getent", "ahosts", name],
                          timeout: 5).status != 0 {
            guard process.isRunning, Date() < deadline else {
                stop()
                throw TestHostsError(message: "dnsmasq did not answer for \(name): \(process.stderr)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Replaces the records (SIGHUP: dnsmasq re-reads its hosts files; TTL 0, so nothing is cached).
    public func publish(_ addresses: [String]) throws {
        try Self.write(addresses, name: name, to: hostsFile)
        kill(process.pid, SIGHUP)
    }

    public func stop() { process.terminate(grace: 5) }

    deinit { stop() }

    private static func write(_ addresses: [String], name: String, to url: URL) throws {
        try Data(addresses.map { "\($0) \(name)\n" }.joined().utf8).write(to: url)
    }
}

/// An agent running in a test host's namespace.
public final class HostAgent: @unchecked Sendable {  // set up in init, then read
    public let process: Spawned
    public let url: String

    init(namespace: String, arguments: [String], url: String) throws {
        self.url = url
        process = try Spawned("/usr/sbin/ip", ["netns", "exec", namespace] + arguments)
        let deadline = Date().addingTimeInterval(30)
        while !process.stderr.contains("listening on") {
            guard process.isRunning, Date() < deadline else {
                process.kill9()
                throw AgentStartFailure(log: process.stderr)
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// Everything the agent wrote to stderr so far.
    public var stderr: String { process.stderr }

    /// SIGTERM (`ip netns exec` execs the agent, so this is the agent's pid), then wait.
    @discardableResult
    public func stop() -> Int32? { process.terminate() }

    /// SIGKILL: an agent that dies mid-run.
    public func kill9() { process.kill9() }
}

final class LogBuffer: @unchecked Sendable {  // guarded by its lock
    private let lock = NSLock()
    private var data = Data()
    func append(_ chunk: Data) { lock.withLock { data.append(chunk) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

public struct TestHostsError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

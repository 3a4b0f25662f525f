import Foundation

/// A real Prometheus server in the test hosts' router namespace, on 127.0.0.1 there (a namespace of
/// its own: the port is free by construction), with its own data folder and a configuration made
/// from the shipped `deploy/prometheus/prometheus.yml`: the same DNS-discovered HTTPS job with a
/// bearer token, pointed at the test's DNS name, CA and token, scraping every second. Stopped by
/// `stop()` (also from `deinit`); `TestHosts.shutdown` kills anything left in the namespace too.
public final class TestPrometheus: @unchecked Sendable {  // set up in init, then read
    public let address = "127.0.0.1:9090"
    private let process: Spawned
    private let hosts: TestHosts

    public static var deployFolder: URL {
        TestHosts.script.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("deploy")
    }

    public static var unavailableReason: String? {
        for tool in ["/usr/bin/prometheus", "/usr/bin/promtool", "/usr/bin/curl"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is not installed (make test installs prometheus and curl)"
        }
        return nil
    }

    /// Starts Prometheus scraping `dnsName`'s A records on `port`, and waits until it is ready.
    public init(_ hosts: TestHosts, dnsName: String, port: UInt16 = 8443) throws {
        self.hosts = hosts
        let folder = hosts.directory.appendingPathComponent("prometheus")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("data"), withIntermediateDirectories: true)
        let shipped = Self.deployFolder.appendingPathComponent("prometheus")
        let config = try Self.configuration(from: String(contentsOf: shipped.appendingPathComponent("prometheus.yml"), encoding: .utf8),
                                            dnsName: dnsName, port: port, hosts: hosts)
        try Data(config.utf8).write(to: folder.appendingPathComponent("prometheus.yml"))
        // The alert rules are loaded too: the real server must accept the shipped file.
        try FileManager.default.copyItem(at: shipped.appendingPathComponent("volley-alerts.yml"),
                                         to: folder.appendingPathComponent("volley-alerts.yml"))
        process = try Spawned("/usr/sbin/ip", ["netns", "exec", hosts.router, "/usr/bin/prometheus",
                                               "--config.file=\(folder.path)/prometheus.yml",
                                               "--storage.tsdb.path=\(folder.path)/data",
                                               "--storage.tsdb.retention.time=1h",
                                               "--web.listen-address=\(address)", "--log.level=warn"])
        let deadline = Date().addingTimeInterval(60)
        while try curl(["-o", "/dev/null", "-w", "%{http_code}", "http://\(address)/-/ready"]).stdout != "200" {
            guard process.isRunning, Date() < deadline else {
                stop()
                throw TestHostsError(message: "prometheus did not become ready: \(process.stderr)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// The shipped configuration with this test's name, port, CA and token; 1 s scrapes and DNS
    /// refreshes; without the static example job (its documentation addresses are not ours).
    static func configuration(from shipped: String, dnsName: String, port: UInt16, hosts: TestHosts) throws -> String {
        var text = shipped
        guard let staticJob = text.range(of: "\n  # A fixed list of agents") else {
            throw TestHostsError(message: "deploy/prometheus/prometheus.yml: no static example job to leave out")
        }
        text.removeSubrange(staticJob.lowerBound...)
        let replacements = [
            ("scrape_interval: 15s", "scrape_interval: 1s"), ("evaluation_interval: 15s", "evaluation_interval: 1s"),
            ("[volley-agents.volley.svc.cluster.local]", "[\(dnsName)]"), ("port: 8080", "port: \(port)"),
            ("refresh_interval: 30s", "refresh_interval: 1s"),
            ("/etc/prometheus/volley-ca.pem", hosts.caFile.path), ("/etc/prometheus/volley.token", hosts.tokenFile.path),
        ]
        for (old, new) in replacements {
            guard text.contains(old) else {
                throw TestHostsError(message: "deploy/prometheus/prometheus.yml no longer has \(old): update TestPrometheus")
            }
            text = text.replacingOccurrences(of: old, with: new)
        }
        return text + "\n"
    }

    /// curl in the router namespace; stdout and stderr apart.
    public func curl(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try hosts.run(in: hosts.router, ["/usr/bin/curl", "-sS", "--max-time", "10"] + arguments, timeout: 30)
    }

    /// An instant query through the HTTP API: the `data.result` array (nil on any error).
    public func query(_ expression: String) throws -> [[String: Any]]? {
        let r = try curl(["-G", "--data-urlencode", "query=\(expression)", "http://\(address)/api/v1/query"])
        guard r.status == 0,
              let body = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              body["status"] as? String == "success" else { return nil }
        return (body["data"] as? [String: Any])?["result"] as? [[String: Any]]
    }

    /// A query's single value as a number (`sum(...)`, `count(...)`), nil when empty or on error.
    public func scalar(_ expression: String) throws -> Double? {
        guard let result = try query(expression), result.count == 1,
              let value = result[0]["value"] as? [Any], value.count == 2, let text = value[1] as? String else { return nil }
        return Double(text)
    }

    /// Polls `expression` until it equals `expected` (generous deadline); returns the last value seen.
    public func wait(for expression: String, toEqual expected: Double, timeout: Double = 90) throws -> Double? {
        let deadline = Date().addingTimeInterval(timeout)
        var last = try scalar(expression)
        while last != expected && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.25)
            last = try scalar(expression)
        }
        return last
    }

    /// Everything Prometheus logged so far.
    public var log: String { process.stderr }

    public func stop() { process.terminate(grace: 10) }

    deinit { stop() }
}

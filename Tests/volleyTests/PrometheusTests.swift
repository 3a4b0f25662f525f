import Foundation
import Testing
import VolleyTestSupport

/// A real Prometheus scraping agents on test hosts, found the way the shipped configuration finds
/// them (DNS A records, HTTPS with a CA and a bearer token), while a fleet found through the same
/// name runs: what Prometheus counts must be exactly what the fleet reports.
@Suite(.serialized) struct PrometheusTests {
    private func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    private func packets(_ totals: Any?) -> Int? { (totals as? [String: Any])?["packets"] as? Int }

    /// Every `volley_…` metric name in a text.
    private func metricNames(_ text: String) -> Set<String> {
        let regex = try! NSRegularExpression(pattern: #"\bvolley_[a-z_]+\b"#)
        return Set(regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { String(text[Range($0.range, in: text)!]) })
    }

    @Test func prometheusFindsTheAgentsThroughDNSAndCountsExactlyWhatTheFleetSent() throws {
        if let reason = TestPrometheus.unavailableReason {
            print("SKIPPED: PrometheusTests: \(reason)")
            return
        }
        guard let hosts = try TestHosts.make(suite: "PrometheusTests") else { return }
        defer { hosts.shutdown() }
        let agents = try (1...3).map { try hosts.startAgent(host: $0) }
        let dns = try TestDNS(hosts, addresses: (1...3).map(hosts.address))
        defer { dns.stop() }
        let prometheus = try TestPrometheus(hosts, dnsName: dns.name)
        defer { prometheus.stop() }

        // Discovered and scraped over HTTPS with the token: all three up before the run.
        let up = try prometheus.wait(for: #"count(up{job="volley"} == 1)"#, toEqual: 3)
        try #require(up == 3, "targets up: \(String(describing: up)); \(prometheus.log)")

        // A fleet through the same name: each agent sends to the next host, one to a sink (3,000 each), so
        // both directions have traffic (the others' ports refuse: send errors, counted by category).
        let sinkSpec = hosts.directory.appendingPathComponent("sink.json")
        try Data(#"{"mode":"sink","listen":"\#(hosts.address(2)):9000","duration_s":60,"max_packets":3000}"#.utf8).write(to: sinkSpec)
        let sinkJob = try hosts.volley(["submit", "--agent", agents[1].url, "--token-file", hosts.tokenFile.path, sinkSpec.path])
        try #require(sinkJob.status == 0, "\(sinkJob.stderr)")
        let spec = hosts.directory.appendingPathComponent("fleet.json")
        try Data(#"{"mode":"send","target":"198.18.0.12:9000","rate_pps":2000,"duration_s":20,"max_packets":3000}"#.utf8).write(to: spec)
        let out = hosts.directory.appendingPathComponent("fleet-result.json")
        let ring = "\(hosts.address(2)):9000,\(hosts.address(3)):9,\(hosts.address(1)):9"
        let run = try hosts.volley(["fleet", "run", spec.path, "--dns", "\(dns.name):8443", "--https", "--token-file", hosts.tokenFile.path,
                                    "--lead", "1", "--progress", "none", "--out", out.path, "--vary", "target=\(ring)"], timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let fleet = try object(String(contentsOf: out, encoding: .utf8))
        let merged = try #require(fleet["merged"] as? [String: Any])
        let sent = try #require(packets(merged["sent"]))
        #expect(sent == 9_000)

        // Prometheus has scraped after the run when its sum reaches the fleet's: exactly that.
        let total = try prometheus.wait(for: #"sum(volley_packets_sent_total{job="volley"})"#, toEqual: Double(sent))
        #expect(total == Double(sent), "Prometheus sum \(String(describing: total)), fleet merged sent.packets \(sent)")
        let completed = try prometheus.wait(for: #"sum(volley_jobs_finished_total{job="volley",state="completed",mode="send"})"#, toEqual: 3)
        #expect(completed == 3)
        // The sink counted what host 1 sent it; Prometheus agrees once it has scraped that too.
        let received = try prometheus.wait(for: #"sum(volley_packets_received_total{job="volley",mode="sink"})"#, toEqual: 3_000)
        #expect(received == 3_000, "sink received \(String(describing: received))")

        // Every agent's /metrics passes promtool's lint, fetched as Prometheus does (CA, token).
        let token = try String(contentsOf: hosts.tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        var exposed = Set<String>()
        for agent in agents {
            let check = try hosts.run(in: hosts.router, ["/bin/bash", "-o", "pipefail", "-c",
                "curl -sSf --max-time 10 --cacert \"$0\" -H \"Authorization: Bearer $1\" \"$2/metrics\" | tee \"$3\" | promtool check metrics",
                hosts.caFile.path, token, agent.url, hosts.directory.appendingPathComponent("metrics.txt").path], timeout: 60)
            #expect(check.status == 0, "\(agent.url)/metrics: \(check.stdout)\(check.stderr)")
            exposed.formUnion(metricNames(try String(contentsOf: hosts.directory.appendingPathComponent("metrics.txt"), encoding: .utf8)))
        }

        // The shipped alerts were loaded by the real server, and every metric they and the
        // dashboard name is one the agents expose; every dashboard query runs without error.
        let rules = try prometheus.curl(["http://\(prometheus.address)/api/v1/rules"])
        let groups = ((try object(rules.stdout)["data"] as? [String: Any])?["groups"] as? [[String: Any]]) ?? []
        let alerts = groups.flatMap { ($0["rules"] as? [[String: Any]]) ?? [] }
        #expect(alerts.count == 4 && alerts.allSatisfy { $0["health"] as? String == "ok" }, "\(rules.stdout)")
        let deploy = TestPrometheus.deployFolder
        let alertText = try String(contentsOf: deploy.appendingPathComponent("prometheus/volley-alerts.yml"), encoding: .utf8)
        let listing = try capture(URL(fileURLWithPath: "/usr/bin/python3"),
                                  [deploy.deletingLastPathComponent().appendingPathComponent("scripts/dashboard-rules.py").path, "--list",
                                   deploy.appendingPathComponent("grafana/dashboards/volley.json").path])
        try #require(listing.status == 0, "\(listing.stderr)")
        let expressions = listing.stdout.split(separator: "\n").map(String.init)
        #expect(expressions.count >= 10)
        let unknown = metricNames(alertText + listing.stdout).subtracting(exposed)
        #expect(unknown.isEmpty, "metrics named by the alerts or the dashboard that no agent exposes: \(unknown.sorted())")
        for expression in expressions {
            #expect(try prometheus.query(expression) != nil, "dashboard query failed in Prometheus: \(expression)")
        }
    }
}

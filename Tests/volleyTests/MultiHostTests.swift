import Foundation
import Testing
import VolleyTestSupport

/// Agents on separate test hosts (network namespaces on a bridge, `TestHosts`): traffic crosses
/// real veth interfaces, the API is HTTPS with a token on a non-loopback address, and clients run on
/// the "router". Exact counts, refusals and the path MTU, as on a real network.
@Suite(.serialized) struct MultiHostTests {
    private func spec(_ hosts: TestHosts, _ name: String, _ json: String) throws -> String {
        let url = hosts.directory.appendingPathComponent(name)
        try Data(json.utf8).write(to: url)
        return url.path
    }

    private func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    private func packets(_ result: [String: Any], _ direction: String) -> Int? {
        (result[direction] as? [String: Any])?["packets"] as? Int
    }

    /// Submits without waiting and returns the job id.
    private func submit(_ hosts: TestHosts, _ agent: HostAgent, _ path: String) throws -> String {
        let r = try hosts.volley(["submit", "--agent", agent.url, "--token-file", hosts.tokenFile.path, path])
        try #require(r.status == 0, "\(r.stderr)")
        return try #require(try object(r.stdout)["id"] as? String)
    }

    /// Submits and waits (`--wait --json`): the exit status, the result's JSON on stdout, stderr.
    private func run(_ hosts: TestHosts, _ agent: HostAgent, _ name: String, _ json: String) throws
        -> (status: Int32, stdout: String, stderr: String) {
        try hosts.volley(["submit", "--agent", agent.url, "--token-file", hosts.tokenFile.path, "--wait", "--json",
                          try spec(hosts, name, json)])
    }

    /// Polls `volley result` until the job has finished (generous deadline), and returns the result.
    private func result(_ hosts: TestHosts, _ agent: HostAgent, _ id: String) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(90)
        while true {
            let r = try hosts.volley(["result", "--agent", agent.url, "--token-file", hosts.tokenFile.path, id])
            if r.status == 0 { return try object(r.stdout) }
            try #require(Date() < deadline, "job \(id) did not finish: \(r.stderr)")
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    @Test func sendAndSinkAcrossHostsCountEveryDatagramOverHTTPSWithAToken() throws {
        guard let hosts = try TestHosts.make(suite: "MultiHostTests") else { return }
        defer { hosts.shutdown() }
        let a = try hosts.startAgent(host: 1)
        let b = try hosts.startAgent(host: 2)
        let sink = try submit(hosts, b, try spec(hosts, "sink.json",
            #"{"mode":"sink","listen":"\#(hosts.address(2)):9000","duration_s":60,"max_packets":20000}"#))
        let send = try run(hosts, a, "send.json",
            #"{"mode":"send","target":"\#(hosts.address(2)):9000","rate_pps":20000,"duration_s":30,"max_packets":20000}"#)
        #expect(send.status == 0, "\(send.stderr)")
        let sent = try object(send.stdout)
        #expect(packets(sent, "sent") == 20_000)
        let received = try result(hosts, b, sink)
        #expect(packets(received, "received") == 20_000)
        let attributed = (received["received"] as? [String: Any])?["kernel_drops"] as? Int
        #expect(attributed == 0)
        let flows = try #require((received["sequence"] as? [String: Any])?["senders"] as? [[String: Any]])
        #expect(flows.count == 1 && flows[0]["gaps"] as? Int == 0 && (flows[0]["source"] as? String)?.hasPrefix(hosts.address(1)) == true)
    }

    @Test func echoAndReflectAcrossHostsOverIPv6AnswerEveryDatagram() throws {
        guard let hosts = try TestHosts.make(suite: "MultiHostTests") else { return }
        defer { hosts.shutdown() }
        let a = try hosts.startAgent(host: 1)
        let b = try hosts.startAgent(host: 2)
        let reflect = try submit(hosts, b, try spec(hosts, "reflect.json",
            #"{"mode":"reflect","listen":"[\#(hosts.address6(2))]:9001","duration_s":60,"max_packets":5000}"#))
        let echo = try run(hosts, a, "echo.json",
            #"{"mode":"echo","target":"[\#(hosts.address6(2))]:9001","rate_pps":5000,"duration_s":30,"max_packets":5000}"#)
        #expect(echo.status == 0, "\(echo.stderr)")
        let replies = try #require(try object(echo.stdout)["echo"] as? [String: Any])
        #expect(replies["sent"] as? Int == 5_000 && replies["received"] as? Int == 5_000 && replies["lost"] as? Int == 0)
        let reflected = try result(hosts, b, reflect)
        #expect(packets(reflected, "received") == 5_000 && packets(reflected, "sent") == 5_000)
    }

    /// STAMP across hosts on its own port (862, left out of both specs): every datagram answered, the
    /// stateful reflector's numbers split (no) loss, and one-way delays only when both clocks say synced.
    @Test func stampSenderAndStatefulReflectorAcrossHostsOnPort862() throws {
        guard let hosts = try TestHosts.make(suite: "MultiHostTests") else { return }
        defer { hosts.shutdown() }
        let a = try hosts.startAgent(host: 1)
        let b = try hosts.startAgent(host: 2)
        let reflect = try submit(hosts, b, try spec(hosts, "stamp-reflect.json",
            #"{"mode":"reflect","protocol":"stamp","stateful":true,"listen":"\#(hosts.address(2))","duration_s":60,"max_packets":5000}"#))
        let echo = try run(hosts, a, "stamp-echo.json",
            #"{"mode":"echo","protocol":"stamp","stateful":true,"target":"\#(hosts.address(2))","rate_pps":5000,"duration_s":30,"max_packets":5000}"#)
        #expect(echo.status == 0, "\(echo.stderr)")
        let measured = try object(echo.stdout)
        let replies = try #require(measured["echo"] as? [String: Any])
        #expect(replies["sent"] as? Int == 5_000 && replies["received"] as? Int == 5_000 && replies["lost"] as? Int == 0)
        let stamp = try #require(measured["stamp"] as? [String: Any])
        #expect((stamp["turnaround_us"] as? [String: Any])?["count"] as? Int == 5_000)
        #expect(stamp["shared_clock"] as? Bool == false)
        let synced = stamp["sender_clock_synchronized"] as? Bool == true && stamp["reflector_clock_synchronized"] as? Bool == true
        #expect(stamp["one_way_valid"] as? Bool == synced)
        #expect((stamp["forward_us"] != nil) == synced)
        let loss = try #require(stamp["loss"] as? [String: Any])
        #expect(loss["attributed"] as? Bool == true && loss["forward"] as? Int == 0 && loss["backward"] as? Int == 0)
        let reflected = try result(hosts, b, reflect)
        #expect(packets(reflected, "received") == 5_000 && packets(reflected, "sent") == 5_000)
        let totals = try #require((reflected["reflect"] as? [String: Any])?["stamp"] as? [String: Any])
        #expect(totals["sessions"] as? Int == 1 && totals["kernel_receive_timestamps"] as? Int == 5_000)
        let listen = ((reflected["spec"] as? [String: Any])?["listen"] as? String)
        #expect(listen == "\(hosts.address(2)):862")
    }

    @Test func theAllowlistAndTheTokenHoldOnARealInterface() throws {
        guard let hosts = try TestHosts.make(suite: "MultiHostTests") else { return }
        defer { hosts.shutdown() }
        let a = try hosts.startAgent(host: 1)
        // A documentation address (RFC 5737) is outside --allow 198.18.0.0/15: refused, naming the field.
        let outside = try hosts.volley(["submit", "--agent", a.url, "--token-file", hosts.tokenFile.path, try spec(hosts, "out.json",
            #"{"mode":"send","target":"192.0.2.1:9","duration_s":1}"#)])
        #expect(outside.status == 2 && outside.stderr.contains("allowlist") && outside.stderr.contains("target"), "\(outside.stderr)")
        // No token, or a wrong one: 401, exit 3.
        let wrong = hosts.directory.appendingPathComponent("wrong-token")
        try Data("not-the-token\n".utf8).write(to: wrong)
        let refused = try hosts.volley(["jobs", "--agent", a.url, "--token-file", wrong.path])
        #expect(refused.status == 3, "\(refused.stderr)")
        // An agent on a non-loopback address without a token refuses to start at all.
        let open = try hosts.run(in: hosts.namespace(2), [AgentProcess.binary.path, "serve", "--listen", "\(hosts.address(2)):8080",
                                                          "--data-dir", hosts.directory.appendingPathComponent("open").path], timeout: 30)
        #expect(open.status != 0 && open.stderr.contains("token"), "\(open.stderr)")
    }

    @Test func thePathMTUDecidesWhatGSOMaySendOnEachLink() throws {
        guard let hosts = try TestHosts.make(suite: "MultiHostTests") else { return }
        defer { hosts.shutdown() }
        let a = try hosts.startAgent(host: 2)
        func gso(_ target: String, _ payload: Int) throws -> (status: Int32, stdout: String, stderr: String) {
            try run(hosts, a, "gso-\(payload).json",
            #"{"mode":"send","target":"\#(target):9","gso":true,"payload_bytes":\#(payload),"rate_pps":2000,"duration_s":0.5}"#)
        }
        // The bridge is 1500: 1472 payload bytes fit, 1473 are refused naming payload_bytes.
        #expect(try gso(hosts.address(1), 1_472).status == 0)
        let over = try gso(hosts.address(1), 1_473)
        #expect(over.status == 2 && over.stderr.contains("payload_bytes") && over.stderr.contains("1472"), "\(over.stderr)")
        // The jumbo link between the last two hosts is 9000: 8972 fit, 8973 do not.
        #expect(try gso(hosts.jumboAddress(3), 8_972).status == 0)
        let jumboOver = try gso(hosts.jumboAddress(3), 8_973)
        #expect(jumboOver.status == 2 && jumboOver.stderr.contains("8972"), "\(jumboOver.stderr)")
    }

    @Test func gsoDatagramsArriveThroughGROCoalescedAndAreCountedOneByOne() throws {
        guard let hosts = try TestHosts.make(suite: "MultiHostTests") else { return }
        defer { hosts.shutdown() }
        let a = try hosts.startAgent(host: 1)
        let b = try hosts.startAgent(host: 2)
        let sink = try submit(hosts, b, try spec(hosts, "gro-sink.json",
            #"{"mode":"sink","listen":"\#(hosts.address(2)):9002","duration_s":120,"gro":true}"#))
        let send = try run(hosts, a, "gso-send.json",
            #"{"mode":"send","target":"\#(hosts.address(2)):9002","gso":true,"payload_bytes":1200,"rate_pps":64000,"duration_s":30,"max_packets":64000}"#)
        #expect(send.status == 0, "\(send.stderr)")
        #expect(packets(try object(send.stdout), "sent") == 64_000)
        // Every datagram is read or dropped at the sink's socket (a busy machine may starve the sink):
        // wait until they add up, then stop the sink.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let status = try hosts.volley(["status", "--agent", b.url, "--token-file", hosts.tokenFile.path, "--json", sink])
            let progress = try object(status.stdout)["progress"] as? [String: Any]
            if (progress?["packets_received"] as? Int ?? 0) + (progress?["kernel_drops"] as? Int ?? 0) >= 64_000 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        _ = try hosts.volley(["cancel", "--agent", b.url, "--token-file", hosts.tokenFile.path, sink])
        let received = try result(hosts, b, sink)
        let totals = try #require(received["received"] as? [String: Any])
        let got = try #require(totals["packets"] as? Int)
        let dropped = try #require(totals["kernel_drops"] as? Int)
        #expect(got + dropped == 64_000 && totals["bytes"] as? Int == got * 1_200, "\(totals)")
        // Coalesced: the kernel handed over several datagrams per message, so far fewer reads.
        let reads = try #require(totals["syscalls"] as? Int)
        #expect(reads < 64_000 / 4, "\(reads) receive calls for 64,000 datagrams")
        let flows = try #require((received["sequence"] as? [String: Any])?["senders"] as? [[String: Any]])
        #expect(flows.count == 1 && flows[0]["unique"] as? Int == got)
    }

    /// A fleet found through DNS like a Kubernetes headless Service: one name, an A record per agent.
    private func fleet(_ hosts: TestHosts, _ dns: TestDNS, _ json: String, _ extra: [String] = []) throws
        -> (status: Int32, result: [String: Any], stderr: String) {
        let out = hosts.directory.appendingPathComponent("fleet-\(UUID().uuidString).json")
        let r = try hosts.volley(["fleet", "run", try spec(hosts, "fleet-spec.json", json), "--dns", "\(dns.name):8443", "--https",
                                  "--token-file", hosts.tokenFile.path, "--lead", "1", "--progress", "none", "--out", out.path] + extra,
                                 timeout: 120)
        let text = (try? String(contentsOf: out, encoding: .utf8)) ?? "{}"
        return (r.status, try object(text), r.stderr)
    }

    @Test func aFleetFoundThroughDNSDrivesEveryAgentAndAStoppedAgentMakesItPartial() throws {
        guard let hosts = try TestHosts.make(suite: "MultiHostTests") else { return }
        defer { hosts.shutdown() }
        let agents = try (1...3).map { try hosts.startAgent(host: $0) }
        let dns = try TestDNS(hosts, addresses: (1...3).map(hosts.address))
        defer { dns.stop() }
        // Every agent sends to the next host (a port nobody listens on: refused, a warning only).
        let ring = (1...3).map { "\(hosts.address($0 % 3 + 1)):9" }.joined(separator: ",")
        let all = try fleet(hosts, dns, #"{"mode":"send","target":"198.18.0.11:9","rate_pps":1000,"duration_s":2}"#,
                            ["--vary", "target=\(ring)"])
        #expect(all.status == 0, "\(all.stderr)")
        let outcomes = try #require(all.result["agents"] as? [[String: Any]])
        #expect(Set(outcomes.compactMap { $0["url"] as? String }) == Set((1...3).map { "https://\(hosts.address($0)):8443" }))
        #expect(outcomes.allSatisfy { $0["state"] as? String == "completed" && $0["sent"] as? Int == 2_000 })
        let merged = try #require(all.result["merged"] as? [String: Any])
        #expect(packets(merged, "sent") == 6_000)
        let skew = try #require(all.result["start_skew_ms"] as? Double)
        #expect(skew >= 0 && skew < 1_000, "start skew \(skew) ms")

        // Removed from DNS: the next run finds and drives only the two that are left.
        try dns.publish([hosts.address(1), hosts.address(2)])
        let two = try fleet(hosts, dns, #"{"mode":"send","target":"198.18.0.12:9","rate_pps":1000,"duration_s":1}"#)
        #expect(two.status == 0, "\(two.stderr)")
        let twoMerged = try #require(two.result["merged"] as? [String: Any])
        #expect((two.result["agents"] as? [[String: Any]])?.count == 2 && packets(twoMerged, "sent") == 2_000)

        // Stopped mid-run: the fleet keeps what the others did and exits 5 (README: exit statuses).
        try dns.publish((1...3).map(hosts.address))
        // The kill waits until the third agent's job is running (not for a fixed time), so it lands
        // mid-run however slow the machine is; the job lasts 8 s after that.
        let token = hosts.tokenFile.path
        let killer = Thread {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let running = try? hosts.volley(["jobs", "--agent", agents[2].url, "--token-file", token, "--state", "running", "--json"])
                if running?.stdout.contains("\"id\"") == true { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            agents[2].kill9()
        }
        killer.start()
        let partial = try fleet(hosts, dns, #"{"mode":"send","target":"198.18.0.12:9","rate_pps":1000,"duration_s":8}"#)
        #expect(partial.status == 5, "\(partial.stderr)")
        let parts = try #require(partial.result["agents"] as? [[String: Any]])
        let failed = parts.filter { $0["url"] as? String == "https://\(hosts.address(3)):8443" }
        #expect(failed.count == 1 && failed[0]["error"] != nil, "\(parts)")
        let survivors = parts.filter { $0["state"] as? String == "completed" }
        #expect(survivors.count == 2 && survivors.allSatisfy { $0["sent"] as? Int == 8_000 })
    }
}

import Foundation
import Testing
import VolleyModel
import VolleyTestSupport
@testable import VolleyAgent

/// `GET /`: the agent's home page, live, with the API's protections.
@Suite(.serialized) struct HomePageTests {
    static let hostile = #"<script>alert(1)</script>"#

    static func curl(_ port: UInt16, _ path: String, _ extra: [String] = []) throws -> (status: String, headers: String, body: String) {
        let dir = AgentProcess.temporaryDirectory()
        let headers = dir.appendingPathComponent("h"), body = dir.appendingPathComponent("b")
        let code = try runCommand(URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-D", headers.path, "-o", body.path, "-w", "%{http_code}"]
                                    + extra + ["http://127.0.0.1:\(port)\(path)"]).output
        return (code, (try? String(contentsOf: headers, encoding: .utf8)) ?? "", (try? String(contentsOf: body, encoding: .utf8)) ?? "")
    }

    /// Two finished jobs (one passed, one failed its threshold) and one scheduled an hour ahead.
    static func jobs(_ h: AgentHarness) async throws -> (passed: String, failed: String, scheduled: String) {
        // A socket that takes the datagrams: sends to a closed port fail every other call (ICMP),
        // which the default checks warn about, and this job must pass without warnings.
        let counter = UDPCounter()
        defer { withExtendedLifetime(counter) {} }
        let port = counter.port
        let passed = try await h.start(#"{"mode":"send","target":"127.0.0.1:\#(port)","duration_s":0.3,"rate_pps":1000,"tags":{"note":"\#(hostile)","q":"\"><img src=x onerror=alert(2)>"}}"#)
        let failed = try await h.start(#"{"mode":"send","target":"127.0.0.1:\#(port)","duration_s":0.3,"rate_pps":1000,"thresholds":{"sent":{"min":1000000}}}"#)
        let at = Timestamp(Date().addingTimeInterval(3600))
        let scheduled = try await h.start(#"{"mode":"send","target":"127.0.0.1:\#(port)","rate_pps":10,"start_at":"\#(at)"}"#)
        _ = try await h.client.waitForJob(passed)
        _ = try await h.client.waitForJob(failed)
        return (passed, failed, scheduled)
    }

    @Test func homePageListsEveryJobEscapedUnderTheReportsPolicy() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let empty = try Self.curl(h.agent.port, "/")
        #expect(empty.status == "200" && empty.body.contains("No jobs yet"))
        let ids = try await Self.jobs(h)
        let page = try Self.curl(h.agent.port, "/")
        #expect(page.status == "200")
        let headers = page.headers.lowercased()
        #expect(headers.contains("content-type: text/html; charset=utf-8"))
        #expect(headers.contains("content-security-policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:") &&
                headers.contains("frame-ancestors 'none'") && headers.contains("x-content-type-options: nosniff"))
        let html = page.body
        #expect(html.contains(#"<meta http-equiv="refresh" content="5">"#))
        for id in [ids.passed, ids.failed, ids.scheduled] { #expect(html.contains(#"<tr data-job="\#(id)">"#), "\(id)") }
        #expect(html.components(separatedBy: "<tr data-job=").count - 1 == 3)
        // Newest first.
        let order = [ids.scheduled, ids.failed, ids.passed].map { html.range(of: $0)!.lowerBound }
        #expect(order == order.sorted())
        #expect(!html.contains("<script") && !html.contains("<img") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains(#"<a href="/v1/jobs/\#(ids.failed)/report">report</a>"#) &&
                html.contains(#"<a href="/v1/jobs/\#(ids.failed)/result">result</a>"#))
        #expect(!html.contains("/v1/jobs/\(ids.scheduled)/report"))  // no result yet, so no link to one
        #expect(html.contains(#"<span class="badge failed">failed</span>"#) && html.contains(#"<span class="badge passed">passed</span>"#)
                && html.contains(#"<span class="badge none">—</span>"#))
        #expect(html.contains("sendmmsg") && html.contains("sockets"))
        #expect(try Self.curl(h.agent.port, "/", ["-I"]).status == "200")
        // The verdict in the job object; none for a job that has not run.
        let failedJob = try await h.client.get("/v1/jobs/\(ids.failed)").json
        #expect((failedJob["verdict"] as? [String: Any])?["passed"] as? Bool == false)
        #expect(try await h.client.get("/v1/jobs/\(ids.scheduled)").json["verdict"] == nil)
        // The report route carries the same header.
        let report = try Self.curl(h.agent.port, "/v1/jobs/\(ids.failed)/report")
        #expect(report.headers.lowercased().contains("content-security-policy: default-src 'none'"))
        #expect(report.body.contains(#"<section class="verdict failed">"#))
    }

    /// `/` is no way around the API's rules: a token is needed as for every route, and without a
    /// token a page of another origin is refused.
    @Test func homePageFollowsTheAPIsAuthAndOriginRules() throws {
        let guarded = try AgentHarness { $0.token = "tok-home" }
        defer { guarded.agent.shutdown() }
        #expect(try Self.curl(guarded.agent.port, "/").status == "401")
        #expect(try Self.curl(guarded.agent.port, "/", ["-H", "Authorization: Bearer wrong"]).status == "401")
        #expect(try Self.curl(guarded.agent.port, "/", ["-H", "Authorization: Bearer tok-home"]).status == "200")
        let open = try AgentHarness()
        defer { open.agent.shutdown() }
        #expect(try Self.curl(open.agent.port, "/", ["-H", "Origin: http://evil.example"]).status == "403")
        #expect(try Self.curl(open.agent.port, "/", ["-H", "Host: attacker.example"]).status == "421")
        #expect(try Self.curl(open.agent.port, "/", ["-X", "POST", "-H", "Content-Type: application/json", "-d", "{}"]).status == "405")
    }

    /// Chromium draws the live page (not blank) and its DOM lists every job.
    @Test func chromiumDrawsTheHomePage() async throws {
        let chromium = try #require(Chromium.find(), "chromium could not be installed")
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let ids = try await Self.jobs(h)
        let url = "http://127.0.0.1:\(h.agent.port)/"
        let png = AgentProcess.temporaryDirectory().appendingPathComponent("home.png")
        let output = try Chromium.screenshot(chromium, url, width: 1280, height: 900, to: png)
        let pixels = try #require(try Chromium.pixels(png), "\(output)")
        #expect(pixels.colours > 20 && pixels.inked > 0.01, "\(pixels)")
        let dom = try Chromium.dumpDOM(chromium, url)
        for id in [ids.passed, ids.failed, ids.scheduled] { #expect(dom.contains(#"data-job="\#(id)""#), "\(id)") }
        #expect(!dom.contains("<script"))
    }
}

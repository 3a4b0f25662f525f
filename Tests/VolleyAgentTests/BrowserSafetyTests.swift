import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyAgent
@testable import VolleyModel

/// The agent played as a hostile web page would play it, through curl: simple cross-origin requests,
/// foreign origins, DNS-rebound host names; and the header details RFC 9110 asks for.
@Suite(.serialized) struct BrowserSafetyTests {
    private func curl(_ port: UInt16, _ arguments: [String]) throws -> (status: String, body: String) {
        let marker = "\n#status:"
        let output = try runCommand(URL(fileURLWithPath: "/usr/bin/curl"),
                                    ["-s", "-w", "\(marker)%{http_code}"] + arguments.map { $0.replacingOccurrences(of: "{base}", with: "http://127.0.0.1:\(port)") }).output
        let parts = output.components(separatedBy: marker)
        return (parts.last ?? "", parts.dropLast().joined())
    }

    private let spec = #"{"mode":"send","target":"127.0.0.1:9","duration_s":0.1,"rate_pps":100}"#

    @Test func aSimpleCrossOriginPostIsRefused() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        // What a page can send without a preflight: text/plain, a form, or no body type at all.
        for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
            let reply = try curl(h.agent.port, ["-H", "Content-Type: \(type)", "-d", spec, "{base}/v1/jobs"])
            #expect(reply.status == "415" && reply.body.contains("unsupported_media_type"), "\(type): \(reply)")
        }
        #expect(try curl(h.agent.port, ["-H", "Content-Type: text/plain", "-d", "x", "{base}/v1/jobs/x/cancel"]).status == "415")
        #expect(try curl(h.agent.port, ["-X", "POST", "{base}/v1/jobs/x/cancel"]).status == "404")  // empty: no type needed
        #expect(try curl(h.agent.port, ["-H", "Content-Type: text/plain", "-d", "x", "{base}/v1/agent"]).status == "405")
        #expect(try curl(h.agent.port, ["--json", spec, "{base}/v1/jobs"]).status == "201")
        #expect(try curl(h.agent.port, ["-H", "Content-Type: application/json; charset=utf-8", "-d", spec, "{base}/v1/jobs"]).status == "201")
        #expect((try await h.client.get("/v1/jobs").json["jobs"] as? [Any])?.count == 2)
    }

    @Test func aForeignOriginIsRefusedWithoutAToken() throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let foreign = try curl(h.agent.port, ["-H", "Origin: http://evil.example", "--json", spec, "{base}/v1/jobs"])
        #expect(foreign.status == "403" && foreign.body.contains("cross_origin"))
        #expect(try curl(h.agent.port, ["-H", "Origin: null", "{base}/v1/jobs"]).status == "403")
        let same = try curl(h.agent.port, ["-H", "Origin: http://127.0.0.1:\(h.agent.port)", "{base}/v1/jobs"])
        #expect(same.status == "200")
        // With a token, a page cannot present it: the token decides, not the origin.
        let guarded = try AgentHarness { $0.token = "tok-123" }
        defer { guarded.agent.shutdown() }
        #expect(try curl(guarded.agent.port, ["-H", "Origin: http://evil.example", "{base}/v1/jobs"]).status == "401")
        #expect(try curl(guarded.agent.port, ["-H", "Origin: http://evil.example", "-H", "Authorization: Bearer tok-123",
                                              "{base}/v1/jobs"]).status == "200")
    }

    @Test func aRebindingHostNameIsRefused() throws {
        let h = try AgentHarness { $0.serverNames = ["agent-7.lab.example"] }
        defer { h.agent.shutdown() }
        let rebound = try curl(h.agent.port, ["-H", "Host: attacker.example", "{base}/v1/jobs"])
        #expect(rebound.status == "421" && rebound.body.contains("host_not_allowed"))
        #expect(try curl(h.agent.port, ["-H", "Host: attacker.example:\(h.agent.port)", "-X", "DELETE", "{base}/v1/jobs/x"]).status == "421")
        for host in ["localhost:\(h.agent.port)", "127.0.0.1", "[::1]:\(h.agent.port)", "AGENT-7.lab.example:\(h.agent.port)"] {
            #expect(try curl(h.agent.port, ["-H", "Host: \(host)", "{base}/v1/jobs"]).status == "200", "\(host)")
        }
    }

    @Test func headAnswersEveryGetRoute() throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        for path in ["/v1/health", "/v1/agent", "/v1/jobs", "/metrics"] {
            let reply = try curl(h.agent.port, ["-I", "{base}\(path)"])
            #expect(reply.status == "200", "\(path)")
            #expect(!reply.body.contains("{\"") && !reply.body.contains("# HELP"), "HEAD \(path) sent a body")
        }
        let allow = try curl(h.agent.port, ["-i", "-X", "PUT", "{base}/v1/jobs"])
        #expect(allow.status == "405" && allow.body.contains("Allow: GET, HEAD, POST"))
    }

    @Test func authorizationIsParsedAsRFC9110Says() throws {
        let h = try AgentHarness { $0.token = "tok-123" }
        defer { h.agent.shutdown() }
        for header in ["Bearer tok-123", "bearer tok-123", "BEARER  tok-123"] {
            #expect(try curl(h.agent.port, ["-H", "Authorization: \(header)", "{base}/v1/jobs"]).status == "200", "\(header)")
        }
        for header in ["Bearer tok-123 junk", "Bearertok-123", "Basic tok-123", "Bearer tok-12"] {
            #expect(try curl(h.agent.port, ["-H", "Authorization: \(header)", "{base}/v1/jobs"]).status == "401", "\(header)")
        }
        let twice = try curl(h.agent.port, ["-H", "Authorization: Bearer wrong", "-H", "Authorization: Bearer tok-123", "{base}/v1/jobs"])
        #expect(twice.status == "401")
        #expect(AccessGate.bearerToken("Bearer tok\u{0}junk") == nil)
        #expect(AccessGate.bearerToken("Bearer tok\u{1b}[2J") == nil)
        #expect(AccessGate.bearerToken("Bearer abc+/=") == Array("abc+/=".utf8))
    }
}

import Foundation
import Testing
import VolleyTestSupport

/// `volley_http_requests_total` is counted per request without a lock and carried into the
/// Prometheus counters when `/metrics` is read: every route and status, the agent's own refusals
/// included, exact, and never counted twice however often the metrics are read.
@Suite struct RequestCountTests {
    @Test func everyRequestIsCountedOnceByRouteAndStatus() async throws {
        let h = try AgentHarness { $0.token = "request-count-token" }
        defer { h.agent.shutdown() }
        let anonymous = HTTPClient(port: h.agent.port)
        for _ in 0..<3 { #expect(try await h.client.get("/v1/health").status == 200) }
        for _ in 0..<2 { #expect(try await h.client.get("/v1/no-such-route").status == 404) }
        #expect(try await h.client.request("DELETE", "/v1/health").status == 405)
        for _ in 0..<4 { #expect(try await anonymous.get("/v1/jobs").status == 401) }
        #expect(ConnectionHygieneTests.rawGet("/v1/health", port: h.agent.port, host: "evil.example").hasPrefix("HTTP/1.1 421"))

        let first = try await metrics(h)
        #expect(first.contains(#"volley_http_requests_total{route="/v1/health",status="200"} 3"#))
        #expect(first.contains(#"volley_http_requests_total{route="unmatched",status="404"} 2"#))
        #expect(first.contains(#"volley_http_requests_total{route="unmatched",status="405"} 1"#))
        #expect(first.contains(#"volley_http_requests_total{route="unauthorized",status="401"} 4"#))
        #expect(first.contains(#"volley_http_requests_total{route="refused",status="421"} 1"#))

        // Read again after two more: the totals grow by what happened in between, nothing more.
        for _ in 0..<2 { #expect(try await h.client.get("/v1/health").status == 200) }
        let second = try await metrics(h)
        #expect(second.contains(#"volley_http_requests_total{route="/v1/health",status="200"} 5"#))
        #expect(second.contains(#"volley_http_requests_total{route="unauthorized",status="401"} 4"#))
        #expect(second.contains(#"volley_http_requests_total{route="/metrics",status="200"} 1"#))
        let third = try await metrics(h)
        #expect(third.contains(#"volley_http_requests_total{route="/metrics",status="200"} 2"#))
        #expect(third.contains(#"volley_http_requests_total{route="/v1/health",status="200"} 5"#))
    }

    private func metrics(_ h: AgentHarness) async throws -> String {
        let reply = try await h.client.get("/metrics")
        #expect(reply.status == 200)
        return String(decoding: reply.body, as: UTF8.self)
    }
}

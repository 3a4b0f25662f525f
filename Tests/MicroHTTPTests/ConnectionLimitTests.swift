import Foundation
import Testing
@testable import MicroHTTP

/// `Limits.connections` is a soft limit: a connection past it is accepted and its request answered with
/// the `busy` response (libmicrohttpd alone would close it at accept without a word).
@Suite struct ConnectionLimitTests {
    @Test func aConnectionPastTheLimitIsToldBusy() throws {
        var limits = HTTPServer.Limits()
        limits.connections = 8
        let busy = HTTPResponse(status: 503, contentType: "application/json", body: Array(#"{"error":{"code":"busy"}}"#.utf8),
                                headers: [("Retry-After", "1"), ("Connection", "close")])
        let server = try HTTPServer(host: "127.0.0.1", port: 0, maxBodyBytes: 1024, limits: limits,
                                    tooLarge: HTTPResponse(status: 413), busy: busy) { request in
            HTTPResponse(status: 200, contentType: "text/plain", body: Array(request.path.utf8))
        }
        defer { server.stop() }
        let held = try (0..<8).map { _ in try RawConnection(port: server.port) }
        // The server counts a connection once a thread has accepted it.
        let deadline = Date().addingTimeInterval(20)
        while server.connections.count < 8 && Date() < deadline { usleep(10_000) }
        try #require(server.connections.count == 8)

        let extra = try RawConnection(port: server.port)
        extra.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = extra.readResponse()
        #expect(answer.hasPrefix("HTTP/1.1 503"), "\(answer)")
        #expect(answer.contains("Retry-After: 1\r\n"))
        #expect(answer.hasSuffix(#"{"error":{"code":"busy"}}"#))
        #expect(extra.waitForClose(), "the busy connection stays open")

        // The connections within the limit are served as usual.
        held[0].send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(held[0].readResponse().hasSuffix("/held"))
    }
}

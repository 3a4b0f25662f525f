import Foundation
import Glibc
import Testing
@testable import MicroHTTP

/// `Limits.requestSeconds`: a request must arrive whole within its deadline, however steadily its bytes
/// trickle in; the idle timeout alone is reset by every byte.
@Suite struct RequestDeadlineTests {
    private func server(requestSeconds: UInt32, idleSeconds: UInt32) throws -> HTTPServer {
        var limits = HTTPServer.Limits()
        limits.requestSeconds = requestSeconds
        limits.idleSeconds = idleSeconds
        return try HTTPServer(host: "127.0.0.1", port: 0, maxBodyBytes: 1024, limits: limits,
                              tooLarge: HTTPResponse(status: 413)) { request in
            HTTPResponse(status: 200, contentType: "text/plain", body: Array(request.path.utf8))
        }
    }

    /// A header sent a byte every half second never stays idle for the 10 s idle timeout; the 2 s
    /// deadline ends it. Before, it was served for as long as the client kept sending.
    @Test func aTricklingHeaderIsCutOffAtTheDeadline() throws {
        let server = try server(requestSeconds: 2, idleSeconds: 10)
        defer { server.stop() }
        let slow = try RawConnection(port: server.port)
        #expect(slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n"))
        let started = Date()
        var closed = false
        // Up to 40 s of trickle, far past the deadline plus the reaper's 1 s period on a busy machine.
        while !closed && Date().timeIntervalSince(started) < 40 {
            closed = !slow.send("X") || slow.closes(within: 500)
            // Meanwhile a whole request on another connection is served.
            if !closed && Date().timeIntervalSince(started) > 1 {
                let other = try RawConnection(port: server.port)
                other.send("GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
                let answer = other.readResponse()
                #expect(answer.hasPrefix("HTTP/1.1 200") && answer.hasSuffix("/other"), "\(answer)")
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(closed, "the trickling client was served for \(elapsed) s")
        #expect(elapsed >= 1.5, "cut after \(elapsed) s, before its deadline")
    }

    /// A keep-alive client that got its answer and then sends nothing is ended by the idle timeout,
    /// not by the (shorter) request deadline: between requests it may wait up to the idle timeout.
    @Test func anIdleKeepAliveConnectionLastsUntilTheIdleTimeout() throws {
        let server = try server(requestSeconds: 2, idleSeconds: 6)
        defer { server.stop() }
        let client = try RawConnection(port: server.port, readTimeout: 40)
        client.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponse().hasSuffix("/first"))
        let answered = Date()
        #expect(client.waitForClose())
        let idle = Date().timeIntervalSince(answered)
        // libmicrohttpd counts its timeout in whole seconds: allow one less. The deadline would have
        // struck at 2-3 s.
        #expect(idle >= 4.5, "closed after \(idle) s idle")
    }
}

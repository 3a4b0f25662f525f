import Foundation
import Testing
import VolleyTestSupport
@testable import MicroHTTP

/// The libmicrohttpd wrapper with a plain handler, driven by a real HTTP client.
@Suite struct HTTPServerTests {
    private func server(maxBody: Int = 1024) throws -> HTTPServer {
        try HTTPServer(host: "127.0.0.1", port: 0, maxBodyBytes: maxBody,
                       tooLarge: HTTPResponse(status: 413, contentType: "text/plain", body: Array("too big".utf8))) { request in
            let summary = "\(request.method) \(request.path) q=\(request.query.sorted { $0.key < $1.key }) "
                + "ct=\(request.header("Content-Type") ?? "-") body=\(request.body.count)"
            return HTTPResponse(status: request.path == "/teapot" ? 418 : 200, contentType: "text/plain",
                                body: Array(summary.utf8), headers: [("X-Test", "yes")])
        }
    }

    @Test func servesRequestsOnAFreePort() async throws {
        let server = try server()
        defer { server.stop() }
        #expect(server.port != 0)
        let client = HTTPClient(port: server.port)
        let reply = try await client.get("/a/b?state=running&x=%2F")
        #expect(reply.status == 200)
        #expect(reply.header("X-Test") == "yes")
        #expect(String(decoding: reply.body, as: UTF8.self) == #"GET /a/b q=[(key: "state", value: "running"), (key: "x", value: "/")] ct=- body=0"#)
        #expect(try await client.get("/teapot").status == 418)
    }

    @Test func postBodiesArriveWhole() async throws {
        let server = try server(maxBody: 100_000)
        defer { server.stop() }
        let body = Data(repeating: 0x41, count: 90_000)
        let reply = try await HTTPClient(port: server.port).request("POST", "/upload", body: body)
        #expect(String(decoding: reply.body, as: UTF8.self).hasSuffix("ct=application/json body=90000"))
    }

    @Test func oversizedBodiesGet413() async throws {
        let server = try server(maxBody: 1024)
        defer { server.stop() }
        let client = HTTPClient(port: server.port)
        let reply = try await client.request("POST", "/upload", body: Data(repeating: 0x41, count: 5000))
        #expect(reply.status == 413)
        #expect(String(decoding: reply.body, as: UTF8.self) == "too big")
        // The server carries on.
        #expect(try await client.get("/ok").status == 200)
    }

    @Test func aBodyExactlyAtTheCapIsAccepted() async throws {
        let server = try server(maxBody: 1024)
        defer { server.stop() }
        let reply = try await HTTPClient(port: server.port).request("POST", "/x", body: Data(count: 1024))
        #expect(reply.status == 200)
    }

    @Test func keepAliveConnectionsServeManyRequests() throws {
        let server = try server()
        defer { server.stop() }
        // curl reuses one connection for several URLs given at once, and says so on stderr.
        let urls = (0..<3).map { "http://127.0.0.1:\(server.port)/r\($0)" }
        let (status, output) = try runCommand(URL(fileURLWithPath: "/usr/bin/curl"), ["-sv"] + urls)
        #expect(status == 0)
        #expect(output.contains("Re-using existing connection") || output.contains("Reusing existing"))
        #expect(!output.contains("Connection: close"))
    }

    @Test func listeningOnAnAddressInUseFails() throws {
        let first = try server()
        defer { first.stop() }
        #expect(throws: HTTPServerError.self) {
            try HTTPServer(host: "127.0.0.1", port: first.port, maxBodyBytes: 10, tooLarge: HTTPResponse(status: 413)) { _ in
                HTTPResponse(status: 200)
            }
        }
        #expect(throws: HTTPServerError.self) {
            try HTTPServer(host: "not-an-ip", port: 0, maxBodyBytes: 10, tooLarge: HTTPResponse(status: 413)) { _ in
                HTTPResponse(status: 200)
            }
        }
    }
}

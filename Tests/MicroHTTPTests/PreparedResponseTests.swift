import Foundation
import Synchronization
import Testing
import VolleyTestSupport
@testable import MicroHTTP

/// Responses built into libmicrohttpd once and queued for many requests, and the one-pass reading of a
/// request's headers and query arguments.
@Suite struct PreparedResponseTests {
    /// 200 KB: more than one send of the socket buffer, so a response is still being sent after the
    /// handler that queued it has returned.
    private static let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }

    private func server(_ handler: @escaping HTTPServer.Handler) throws -> HTTPServer {
        try HTTPServer(host: "127.0.0.1", port: 0, maxBodyBytes: 1024, tooLarge: HTTPResponse(status: 413), handler: handler)
    }

    /// Runs `body` `times` times in each of `tasks` concurrent tasks.
    private static func concurrently(_ tasks: Int, times: Int, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask { for _ in 0..<times { try await body() } }
            }
            try await group.waitForAll()
        }
    }

    @Test func oneBuildIsServedWholeToConcurrentRequests() async throws {
        let shared = HTTPResponse(status: 201, contentType: "application/octet-stream", body: Self.big,
                                  headers: [("X-One", "1"), ("X-Two", "2")]).prepared()
        #expect(shared.isPrepared)
        let server = try server { _ in shared }
        defer { server.stop() }
        let client = HTTPClient(port: server.port)
        // 32 at once over the pool's four threads, each connection asking five times.
        try await Self.concurrently(32, times: 5) {
            let reply = try await client.get("/any")
            #expect(reply.status == 201)
            #expect(reply.header("X-One") == "1" && reply.header("X-Two") == "2")
            #expect(reply.header("Content-Type") == "application/octet-stream")
            #expect(reply.body == Data(Self.big))
        }
        // HEAD: the same headers, no body (libmicrohttpd leaves it out of a shared response too).
        let head = try await client.request("HEAD", "/any")
        #expect(head.status == 201 && head.header("X-One") == "1" && head.body.isEmpty)
    }

    /// The handler's only copy goes as soon as it returns, while libmicrohttpd is still sending it:
    /// libmicrohttpd's own count keeps the build alive until the last byte is out.
    @Test func aBuildOutlivesItsOwnerWhileItIsSent() async throws {
        let served = Atomic<Int>(0)
        let server = try server { _ in
            served.add(1, ordering: .relaxed)
            return HTTPResponse(status: 200, contentType: "application/octet-stream", body: Self.big).prepared()
        }
        defer { server.stop() }
        let client = HTTPClient(port: server.port)
        try await Self.concurrently(16, times: 3) {
            let reply = try await client.get("/fresh")
            #expect(reply.status == 200 && reply.body == Data(Self.big))
        }
        #expect(served.load(ordering: .relaxed) == 48)
    }

    @Test func changingAPreparedResponseDropsItsBuild() async throws {
        let base = HTTPResponse(status: 200, contentType: "text/plain", body: Array("old".utf8)).prepared()
        var body = base
        body.body = Array("new".utf8)
        var status = base
        status.status = 202
        var headers = base
        headers.headers.append(("X-Added", "yes"))
        #expect(base.isPrepared)
        #expect(!body.isPrepared && !status.isPrepared && !headers.isPrepared)
        #expect(!HTTPResponse(status: 200).isPrepared)

        let (changedBody, changedStatus, changedHeaders) = (body, status, headers)
        let server = try server { request in
            switch request.path {
            case "/body": changedBody
            case "/status": changedStatus
            case "/headers": changedHeaders
            default: base
            }
        }
        defer { server.stop() }
        let client = HTTPClient(port: server.port)
        #expect(String(decoding: try await client.get("/body").body, as: UTF8.self) == "new")
        #expect(try await client.get("/status").status == 202)
        #expect(try await client.get("/headers").header("X-Added") == "yes")
        #expect(String(decoding: try await client.get("/").body, as: UTF8.self) == "old")
    }

    @Test func headersAndArgumentsAreReadInOnePass() throws {
        let server = try server { request in
            let headers = request.headers.filter { $0.key.hasPrefix("x-") }.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }.joined(separator: "|")
            let query = request.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "|")
            let lookups = [request.header("X-MiXeD"), request.header("x-mixed"), request.header("X-Missing")]
                .map { $0 ?? "nil" }.joined(separator: ",")
            return HTTPResponse(status: 200, body: Array("\(headers)\n\(query)\n\(lookups)".utf8))
        }
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/p?b=2&a=%2F&a=last&c=x+y"
        let (status, output) = try runCommand(URL(fileURLWithPath: "/usr/bin/curl"), [
            "-s", "-H", "X-Mixed: Case", "-H", "X-Dup: one", "-H", "x-dup: two", "-H", "x-lower: as-is", url,
        ])
        #expect(status == 0)
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Names lower-cased; a field sent twice (in any case) joined in order; a value never a name.
        #expect(lines.first == "x-dup=one, two|x-lower=as-is|x-mixed=Case")
        // Arguments decoded ("+" a space); one given twice keeps the last.
        #expect(lines.dropFirst().first == "a=last|b=2|c=x y")
        #expect(lines.dropFirst(2).first == "Case,Case,nil")
    }

    /// Past a few fields the joining goes by name lookup rather than a scan, and gives the same answer.
    @Test func manyFieldsAreJoinedAlike() throws {
        let server = try server { request in
            let answer = [request.header("x-f5"), request.header("X-F16"), request.header("x-f17"), request.header("x-f299")]
                .map { $0 ?? "nil" }.joined(separator: "|")
            return HTTPResponse(status: 200, body: Array("\(request.fields.count) \(answer)".utf8))
        }
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        var head = "GET /many HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for i in 0..<300 { head += "X-F\(i): \(i)\r\n" }
        head += "x-f5: again\r\nX-F299: last\r\nx-f16: a\r\nX-F17: b\r\n\r\n"
        #expect(connection.send(head))
        let reply = connection.readResponse()
        #expect(reply.hasPrefix("HTTP/1.1 200"))
        #expect(reply.hasSuffix("301 5, again|16, a|17, b|299, last"))
    }
}

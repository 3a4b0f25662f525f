import Testing
@testable import MicroHTTP

/// Requests that libmicrohttpd 0.9.75 refuses itself, before our handler sees them, with HTML pages
/// we cannot replace (no option or callback for them; docs/architecture.md, "Known limits"). These
/// tests pin today's answers so that a libmicrohttpd that changes them is noticed.
@Suite struct LibraryErrorPageTests {
    private func answer(to request: String) throws -> String {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, maxBodyBytes: 1024, tooLarge: HTTPResponse(status: 413)) { _ in
            HTTPResponse(status: 200, contentType: "application/json", body: Array("{}".utf8))
        }
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        connection.send(request)
        return connection.readResponse()
    }

    /// A request line longer than the 32 KiB connection memory: 414 with an HTML page, then close.
    @Test func aFortyKilobyteURLGetsLibmicrohttpdsHTML414() throws {
        let reply = try answer(to: "GET /" + String(repeating: "a", count: 40_000) + " HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(reply.hasPrefix("HTTP/1.1 414 URI Too Long\r\n"), "\(reply.prefix(200))")
        #expect(reply.contains("Connection: close\r\n"))
        #expect(!reply.lowercased().contains("content-type"))
        #expect(reply.hasSuffix("<html><head><title>Request too big</title></head><body>Your HTTP header was too big "
            + "for the memory constraints of this webserver.</body></html>"))
    }

    /// Headers over the same memory: 431 with the same page.
    @Test func fortyKilobytesOfHeaderGetLibmicrohttpdsHTML431() throws {
        let reply = try answer(to: "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 40_000) + "\r\n\r\n")
        #expect(reply.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "\(reply.prefix(200))")
        #expect(reply.hasSuffix("</body></html>"))
    }

    /// An HTTP major version other than 1: 505 with an HTML page.
    @Test func http2OverPlainTextGetsLibmicrohttpdsHTML505() throws {
        let reply = try answer(to: "GET / HTTP/2.0\r\nHost: x\r\n\r\n")
        #expect(reply.hasPrefix("HTTP/1.1 505 HTTP Version Not Supported\r\n"), "\(reply.prefix(200))")
        #expect(reply.hasSuffix("</body></html>"))
    }
}

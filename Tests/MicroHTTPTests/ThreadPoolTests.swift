import Dispatch
import Synchronization
import Testing
@testable import MicroHTTP

/// With a pool of server threads, a handler that blocks holds only its own connection.
@Suite struct ThreadPoolTests {
    /// The slow handler blocks until the test lets it go, so no timing is involved: with one server
    /// thread /fast could only be answered after the slow handler returned (after its 20 s bound).
    @Test func aBlockedHandlerDoesNotStallAnotherConnection() throws {
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let slowReturned = Atomic<Bool>(false)
        let server = try HTTPServer(host: "127.0.0.1", port: 0, maxBodyBytes: 1024,
                                    tooLarge: HTTPResponse(status: 413)) { request in
            if request.path == "/slow" {
                entered.signal()
                _ = release.wait(timeout: .now() + 20)
                slowReturned.store(true, ordering: .sequentiallyConsistent)
            }
            return HTTPResponse(status: 200, contentType: "text/plain", body: Array(request.path.utf8))
        }
        defer { server.stop() }

        let slowAnswer = Mutex<String?>(nil)
        let slowDone = DispatchSemaphore(value: 0)
        let port = server.port
        DispatchQueue.global().async {
            let answer = (try? RawConnection(port: port, readTimeout: 40)).map { connection in
                connection.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
                return connection.readResponse()
            }
            slowAnswer.withLock { $0 = answer }
            slowDone.signal()
        }
        try #require(entered.wait(timeout: .now() + 30) == .success, "the slow request never reached the handler")

        let fast = try RawConnection(port: port, readTimeout: 40)
        fast.send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = fast.readResponse()
        #expect(answer.hasPrefix("HTTP/1.1 200") && answer.hasSuffix("/fast"), "\(answer)")
        let slowHadReturned = slowReturned.load(ordering: .sequentiallyConsistent)
        #expect(!slowHadReturned, "/fast waited for the slow handler")

        release.signal()
        #expect(slowDone.wait(timeout: .now() + 30) == .success)
        #expect(slowAnswer.withLock { $0 }?.hasSuffix("/slow") == true)
    }
}

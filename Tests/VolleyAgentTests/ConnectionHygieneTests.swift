import Foundation
import Glibc
import Testing
import VolleyTestSupport
@testable import VolleyAgent
import VolleyModel

/// Slow and careless clients against the live in-process agent: a pile of trickling connections from
/// one address cannot take the API from others, and an over-limit body gets its JSON 413.
@Suite(.serialized) struct ConnectionHygieneTests {
    /// 1,000 connections from 127.0.0.2 that send half a request line and then nothing (as a slow
    /// client would): before, 512 of them left no slot and /v1/health never answered.
    @Test func healthAnswersWhileAThousandSlowClientsHang() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        var slow: [Int32] = []
        defer { slow.forEach { close($0) } }
        for _ in 0..<1_000 {
            guard let fd = Self.connect(from: "127.0.0.2", to: h.agent.port) else { continue }
            _ = "GET /v1/health HT".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            slow.append(fd)
        }
        #expect(slow.count >= 64, "the slow clients could not connect at all")
        var worst = 0.0
        for _ in 0..<5 {
            let asked = Date()
            #expect(try await h.client.get("/v1/health").status == 200)
            worst = max(worst, Date().timeIntervalSince(asked))
        }
        print("health with 1,000 slow clients open: worst of 5 took \(String(format: "%.1f", worst * 1000)) ms")
        #expect(worst < TestTiming.limit(0.1), "health took \(worst) s")
        // The server's threads share the accepting, and the per-address count is kept once for all of
        // them: exactly 64 of the slow connections stay open, the rest are closed as they come.
        let deadline = Date().addingTimeInterval(20)
        var open = Self.stillOpen(slow)
        while open > 64 && Date() < deadline {
            try await Task.sleep(nanoseconds: 50_000_000)
            open = Self.stillOpen(slow)
        }
        #expect(open == 64)
        // Beyond 64 from one address, connections are closed as they come: a read sees the end.
        let extra = try #require(Self.connect(from: "127.0.0.2", to: h.agent.port))
        defer { close(extra) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var byte: UInt8 = 0
        #expect(recv(extra, &byte, 1, 0) <= 0)
    }

    /// Past 1,024 connections the agent still answers, with its JSON 503 and `Retry-After`, where
    /// libmicrohttpd alone closed the connection at accept without a word.
    @Test func aConnectionPastTheLimitGetsAJSON503() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        var held: [Int32] = []
        defer { held.forEach { close($0) } }
        // 64 per address is the per-client limit: 16 addresses fill the 1,024.
        for host in 2...17 {
            for _ in 0..<64 {
                guard let fd = Self.connect(from: "127.0.0.\(host)", to: h.agent.port) else { continue }
                held.append(fd)
            }
        }
        try #require(held.count == 1_024, "only \(held.count) connections could be opened")
        // The agent counts a connection once a server thread has accepted it: ask until it has.
        let deadline = Date().addingTimeInterval(30)
        var last = ""
        while Date() < deadline {
            // Over a raw socket, not curl: Foundation's Process.run crashed (memmove in Process.run)
            // when started with more than 2,000 descriptors open in the test process.
            last = Self.rawGet("/v1/health", port: h.agent.port)
            if !last.hasPrefix("HTTP/1.1 200") { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(last.hasPrefix("HTTP/1.1 503"), "\(last)")
        #expect(last.contains("Retry-After: 1\r\n"), "\(last)")
        #expect(last.contains(#""code":"server_busy""#), "\(last)")
    }

    /// A body over the cap is read and dropped, then answered: the client sees the JSON 413, not a
    /// reset while it is still sending.
    @Test func anOversizedBodyGetsItsJSONError() throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let file = AgentProcess.temporaryDirectory().appendingPathComponent("big.json")
        try Data(repeating: 0x20, count: 300_000).write(to: file)
        for _ in 0..<3 {
            let run = try runCommand(URL(fileURLWithPath: "/usr/bin/curl"), [
                "-sS", "-w", "\n%{http_code}", "-H", "Content-Type: application/json", "--data-binary", "@\(file.path)",
                "http://127.0.0.1:\(h.agent.port)/v1/jobs",
            ])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains(#""code":"body_too_large""#) && run.output.hasSuffix("413"), "\(run.output)")
        }
    }

    /// How many of `fds` the server has not closed: the server never answers them, so anything to read
    /// (the end of stream) or a reset means closed.
    static func stillOpen(_ fds: [Int32]) -> Int {
        var polled = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        _ = poll(&polled, nfds_t(polled.count), 0)
        return polled.filter { $0.revents == 0 }.count
    }

    /// The HTTP server runs a pool of threads: each one is lowered on its own first request (before,
    /// only the first thread to serve a request was, and the others kept the workers' priority).
    @Test func everyServerThreadLowersItselfOnce() throws {
        let once = LowerOnce(nice: 3)
        let seen = Locked<[Int32]>([])  // not Mutex: ThreadSanitizer cannot see its futex (Locked.swift)
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<2 {
            Thread {
                once.here()
                once.here()
                let nice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
                seen.withLock { $0.append(nice) }
                done.signal()
            }.start()
        }
        for _ in 0..<2 { #expect(done.wait(timeout: .now() + 30) == .success) }
        #expect(seen.withLock { $0 } == [3, 3])
    }

    /// One HTTP/1.1 GET over a fresh connection from 127.0.0.1 with `Host: host`; the whole answer
    /// as text ("" when the connection is refused or closed without one).
    static func rawGet(_ path: String, port: UInt16, host: String = "127.0.0.1") -> String {
        guard let fd = connect(from: "127.0.0.1", to: port) else { return "" }
        defer { close(fd) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"
        guard request.withCString({ send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }) > 0 else { return "" }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            answer += buffer[..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// A TCP connection to `port` on 127.0.0.1 from the local address `source`.
    static func connect(from source: String, to port: UInt16) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = port.bigEndian
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &local) { l in
            l.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0 && withUnsafePointer(to: &remote) { r in
            r.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
        if !ok { close(fd) }
        return ok ? fd : nil
    }
}

import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

private func echoSpec(_ target: Endpoint, rate: Int = 5_000, maxPackets: Int = 1_000, timeoutMs: Int = 400,
                      flows: Int = 1, threads: Int = 1) -> JobSpec {
    JobSpec(mode: .echo, target: target, durationSeconds: 5, ratePPS: rate, threads: threads, flows: flows,
            maxPackets: maxPackets, echoTimeoutMilliseconds: timeoutMs)
}

@Suite(.serialized) struct EchoTests {
    @Test func lossDuplicatesAndReorderingAreExact() throws {
        let reflector = MisbehavingReflector(dropEvery: 10, doubleEvery: 25, swapAt: 33)
        defer { reflector.stop() }
        let report = try runJob(echoSpec(loopback(reflector.port)))
        let expected = reflector.expected(sent: 1_000)
        let echo = try #require(report.echo)
        #expect(echo.sent == 1_000)
        #expect(echo.received == UInt64(expected.received))   // 900
        #expect(echo.lost == UInt64(expected.lost))           // 100
        #expect(echo.duplicates == UInt64(expected.duplicates)) // 20
        #expect(echo.reordered == UInt64(expected.reordered))  // 10
        #expect(echo.late == 0 && echo.foreign == 0)
        let latency = try #require(report.latency)
        #expect(latency.count == echo.received)
        #expect(latency.min > 0 && latency.p50 >= latency.min && latency.p99 >= latency.p50 && latency.max >= latency.p99)
        #expect(report.timeline.reduce(0) { $0 + $1.sent } == 1_000)
        #expect(report.timeline.reduce(0) { $0 + ($1.lost ?? 0) } == UInt64(expected.lost))
        #expect(report.received.packets == UInt64(expected.received + expected.duplicates))
    }

    @Test func repliesPastTheTimeoutAreLateNotReceived() throws {
        // With a 0 ms timeout even a loopback reply (tens of µs) comes too late.
        let reflector = MisbehavingReflector(dropEvery: 1_000_000, doubleEvery: 1_000_000, swapAt: nil)
        defer { reflector.stop() }
        let report = try runJob(echoSpec(loopback(reflector.port), rate: 2_000, maxPackets: 200, timeoutMs: 0))
        let echo = try #require(report.echo)
        #expect(echo.sent == 200)
        #expect(echo.late + echo.received <= 200)  // the very last reply may still be in flight: lost
        #expect(echo.late > 150)
        #expect(echo.lost == 200 - echo.received)
    }

    @Test(arguments: IOMethod.allCases)
    func echoAgainstReflectJobLosesNothing(method: IOMethod) throws {
        var options = EngineOptions()
        options.ioMethod = method
        let port = freeUDPPort()
        let (_, reflected) = try launch(JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 3, batch: 32,
                                                maxPackets: 3_000), options: options)
        let report = try runJob(echoSpec(loopback(port), rate: 10_000, maxPackets: 3_000, flows: 3, threads: 2),
                                options: options)
        let echo = try #require(report.echo)
        #expect(echo.sent == 3_000)
        #expect(echo.received == 3_000 && echo.lost == 0 && echo.duplicates == 0 && echo.late == 0)
        let reflect = reflected()
        #expect(reflect.received.packets == 3_000)
        #expect(reflect.sent.packets == 3_000)
        #expect(reflect.sent.bytes == report.sent.bytes)
    }

    /// Up to 10,000/s a paced echo sends every request in its own call (`Pacer.echoGapNanos`), so
    /// none waits behind another of the job; a send job at that rate sends two per call. A late
    /// thread catches up one call per datagram too, so the count is exact on a busy machine.
    @Test func pacedEchoSendsEachRequestOnItsOwn() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 5, maxPackets: 2_000))
        let report = try runJob(echoSpec(loopback(port), rate: 10_000, maxPackets: 2_000))
        let echo = try #require(report.echo)
        #expect(echo.sent == 2_000 && echo.received == 2_000)
        #expect(report.sent.syscalls == 2_000)
        #expect(reflected().sent.packets == 2_000)
    }

    /// busy_poll_us on both ends (spin, then block): every request answered, every reply counted once.
    /// Several flows spin with ppoll; one flow reads a datagram at a time while it spins, and with a
    /// spin as long as the request interval (500 µs at 2,000/s) it never arms its wake timer.
    @Test(arguments: [(flows: 2, echoSpin: 200), (flows: 1, echoSpin: 200), (flows: 1, echoSpin: 1_000)])
    func busyPollingEchoAndReflectLoseNothing(flows: Int, echoSpin: Int) throws {
        let port = freeUDPPort()
        var reflectSpec = JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 3, maxPackets: 600)
        reflectSpec.busyPollMicroseconds = 200
        let (_, reflected) = try launch(reflectSpec)
        var spec = echoSpec(loopback(port), rate: 2_000, maxPackets: 600, flows: flows)
        spec.busyPollMicroseconds = echoSpin
        let report = try runJob(spec)
        let echo = try #require(report.echo)
        #expect(echo.sent == 600)
        #expect(echo.received == 600 && echo.lost == 0 && echo.duplicates == 0 && echo.late == 0 && echo.foreign == 0)
        #expect(try #require(report.latency).count == 600)
        let reflect = reflected()
        #expect(reflect.received.packets == 600 && reflect.sent.packets == 600)
    }

    @Test func ipv6EchoAndReflect() throws {
        let port = freeUDPPort()
        let v6 = Endpoint(address: IPAddress("::1")!, port: port)
        let (_, reflected) = try launch(JobSpec(mode: .reflect, listen: v6, durationSeconds: 3, maxPackets: 500))
        let report = try runJob(echoSpec(v6, rate: 5_000, maxPackets: 500))
        #expect(report.echo?.received == 500)
        #expect(reflected().sent.packets == 500)
    }

    @Test func progressCarriesTheLatestFinishedSecondsRTT() throws {
        let port = freeUDPPort()
        let (reflectRun, reflected) = try launch(JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 60))
        defer { reflectRun.stop(); _ = reflected() }
        let (run, finished) = try launch(JobSpec(mode: .echo, target: loopback(port), durationSeconds: 60, ratePPS: 2_000,
                                                 echoTimeoutMilliseconds: 1_000))
        defer { run.stop(); _ = finished() }
        #expect(run.progress().rtt == nil)  // nothing has come back before the first second ends
        // Second 0 settles once the receiving thread records a reply in second 1 (a generous deadline).
        let deadline = Date().addingTimeInterval(30)
        var progress = run.progress()
        while progress.rtt == nil && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            progress = run.progress()
        }
        let rtt = try #require(progress.rtt)
        #expect(rtt.p50 > 0 && rtt.p99 >= rtt.p50)
        #expect(Double(rtt.second) < progress.elapsedSeconds)
        #expect(progress.packetsReceived > 0)
    }

    /// A one-flow echo whose requests go unanswered still sends on its schedule: every wait for a
    /// reply ends at the next send time (the wake timer's signal, or ppoll's timeout), not at the
    /// socket's 20 ms receive timeout, which would send in bursts of four. The send times are read
    /// from the stamps of what arrived at a silent socket.
    @Test(arguments: [true, false])
    func unansweredEchoKeepsItsSchedule(wakeTimer: Bool) throws {
        let silent = openUDPSocket()
        defer { close(silent) }
        let port = bindLoopback(silent)
        var options = EngineOptions()
        options.echoWakeTimer = wakeTimer
        let report = try runJob(echoSpec(loopback(port), rate: 200, maxPackets: 200, timeoutMs: 100), options: options)
        let echo = try #require(report.echo)
        #expect(echo.sent == 200 && echo.lost == 200 && echo.received == 0)
        var sentAt: [UInt64] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(silent, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard n > 0 else { break }
            if let stamp = buffer.withUnsafeBytes({ Stamp.read($0.baseAddress!, length: n) }) { sentAt.append(stamp.sentNanos) }
        }
        #expect(sentAt.count == 200)
        let gaps = zip(sentAt.dropFirst(), sentAt).map { $0 &- $1 }.sorted()
        let median = gaps.isEmpty ? 0 : gaps[gaps.count / 2]
        // 5 ms apart at 200/s; a wait that overran to the socket timeout makes most gaps ~0.
        #expect(median > 2_500_000 && median < 10_000_000, "median gap \(median) ns")
    }

    @Test func echoRefusesToWaitPastAStop() throws {
        let reflector = MisbehavingReflector(dropEvery: 1, doubleEvery: 1_000_000, swapAt: nil)  // drops all
        defer { reflector.stop() }
        let started = Date()
        let report = try runJob(echoSpec(loopback(reflector.port), rate: 1_000, maxPackets: 0, timeoutMs: 60_000),
                                stopAfter: 0.3)
        #expect(Date().timeIntervalSince(started) < 0.3 + TestTiming.limit(0.15))
        #expect(report.stoppedEarly)
        #expect(report.echo?.lost == report.echo?.sent)
    }
}

@Suite(.serialized) struct ReflectTests {
    @Test func everyRequestComesBackToItsSenderMarkedAsAReply() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 2, maxPackets: 1_234))
        let client = StampedSender(port: port, tag: 7, flow: 0)
        for sequence in 0..<1_234 { client.send(sequence: UInt64(sequence), size: 300) }
        let back = client.drain()
        let report = reflected()
        #expect(back.packets == 1_234 && back.bytes == 1_234 * 300 && back.flagged == 1_234)
        #expect(report.received.packets == 1_234 && report.sent.packets == 1_234)
        #expect(report.received.bytes == report.sent.bytes)
        #expect(report.reflect == ReflectTotals())
    }

    /// Unstamped datagrams and replies are not answered (so reflectors cannot loop), only counted.
    @Test func onlyVolleyRequestsAreAnswered() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 2, maxPackets: 600))
        let plain = UDPEchoClient(port: port)
        #expect(plain.send(count: 200, size: 100) == 200)
        let client = StampedSender(port: port, tag: 9, flow: 1)
        for sequence in 0..<200 { client.send(sequence: UInt64(sequence), asReply: true) }
        for sequence in 0..<200 { client.send(sequence: UInt64(sequence)) }
        let report = reflected()
        #expect(plain.drain().packets == 0)
        #expect(client.drain().packets == 200)
        let refused = try #require(report.reflect)
        #expect(refused.refusedUnstamped == 200 && refused.refusedReplies == 200)
        #expect(refused.refusedSources == 0 && refused.rateLimited == 0)
        #expect(report.received.packets == 600 && report.sent.packets == 200)
    }

    @Test func sourcesOutsideTheAllowlistAreRefused() throws {
        var options = EngineOptions()
        options.peerAllowlist = [CIDR("127.0.0.2/32")!]  // the client sends from 127.0.0.1
        let port = freeUDPPort()
        let (_, reflected) = try launch(JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 2, maxPackets: 300),
                                        options: options)
        let client = StampedSender(port: port, tag: 9, flow: 1)
        for sequence in 0..<300 { client.send(sequence: UInt64(sequence)) }
        let report = reflected()
        #expect(client.drain().packets == 0)
        #expect(report.reflect?.refusedSources == 300 && report.sent.packets == 0)
    }

    /// The agent's --max-rate-pps (or the spec's rate_pps) caps replies: a burst beyond it is dropped.
    @Test(arguments: [(agent: Int?.some(100), spec: 0), (agent: nil, spec: 100), (agent: 50_000, spec: 100)])
    func repliesStayUnderTheCap(agent: Int?, spec: Int) throws {
        var options = EngineOptions()
        options.maxRatePPS = agent
        let port = freeUDPPort()
        let (_, reflected) = try launch(JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 30, ratePPS: spec,
                                                batch: 64, maxPackets: 2_000), options: options)
        let client = StampedSender(port: port, tag: 3, flow: 0)
        let started = MonotonicClock.now()
        for sequence in 0..<2_000 { client.send(sequence: UInt64(sequence)) }
        let report = reflected()
        let seconds = Double(MonotonicClock.now() - started) / 1e9
        let answered = client.drain().packets
        // At most the burst (one batch: 64) plus 100 per second of the run.
        #expect(answered <= 64 + Int((seconds * 100).rounded(.up)) + 1, "answered \(answered) in \(seconds) s")
        #expect(answered >= 64)
        let refused = try #require(report.reflect)
        #expect(refused.replyCapPPS == 100)
        #expect(UInt64(answered) + refused.rateLimited == 2_000)
    }
}

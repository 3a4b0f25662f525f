import Foundation
import Glibc
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// Every datagram a sender counted is either received or counted as dropped, and by whom.
@Suite(.serialized) struct LossAttributionTests {
    @Test func anOverflowedSinkAttributesEveryMissingDatagramToItsKernelQueue() throws {
        let port = freeUDPPort()
        var tiny = EngineOptions()
        tiny.socketBufferBytes = 4_096  // the kernel doubles it: room for a handful of datagrams
        let (sink, sinkReport) = try launch(JobSpec(mode: .sink, listen: loopback(port), durationSeconds: 120), options: tiny)
        defer { sink.stop() }
        // On loopback a datagram is queued or dropped inside the sender's call, so once the sender is
        // done every datagram is either in the sink's queue, read, or counted as dropped.
        let sent = try runJob(sendSpec(to: port, duration: 30, maxPackets: 50_000))
        #expect(sent.sent.packets == 50_000)
        let deadline = Date().addingTimeInterval(60)
        var progress = sink.progress()
        while progress.packetsReceived + (progress.kernelDrops ?? 0) < 50_000 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
            progress = sink.progress()
        }
        sink.stop()
        let report = sinkReport()
        let drops = try #require(report.received.kernelDrops)
        #expect(drops > 0, "a 4 KiB queue fed by a full-speed sender overflows")
        #expect(report.received.packets + drops == 50_000)
        // The sink's own loss figure (sequence gaps, plus the tail after the highest sequence number
        // that arrived) is exactly what its kernel queue dropped.
        let flows = try #require(report.sequence?.senders)
        #expect(flows.count == 1 && flows[0].unique == report.received.packets)
        #expect(flows[0].gaps + (49_999 - flows[0].highestSeq) == drops)
        #expect(report.io.receiveBufferBytes == 8_192)
        #expect(sent.received.kernelDrops == nil && sent.sent.backoffs == 0 && sent.sent.skipped == 0)
    }

    @Test func aPersistentSendErrorSkipsTheDatagramWithoutLeavingASequenceGap() throws {
        let port = freeUDPPort()
        let (_, sinkReport) = try launch(JobSpec(mode: .sink, listen: loopback(port), durationSeconds: 30, maxPackets: 2_000))
        var options = EngineOptions()
        options.sendFault = SendFault(errno: EPERM, every: 3, times: 500)  // a firewall refusing every third call
        let sent = try runJob(sendSpec(to: port, duration: 30, rate: 20_000, batch: 1, maxPackets: 2_500), options: options)
        // batch 1: each call is one datagram, so each refused call skips exactly one.
        #expect(sent.sent.skipped == 500 && sent.sent.errors == ["permission_denied": 500])
        #expect(sent.sent.packets == 2_000 && sent.sent.backoffs == 0)
        let sink = sinkReport()
        #expect(sink.received.packets == 2_000)
        // Skipped datagrams used no sequence numbers: the sink sees 0…1999 with no gap.
        let flows = try #require(sink.sequence?.senders)
        #expect(flows.count == 1 && flows[0].gaps == 0 && flows[0].unique == 2_000 && flows[0].highestSeq == 1_999)
    }

    @Test func bufferPressureIsRetriedAfterABackOffAndRestamped() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        let port = bindLoopback(fd)
        var options = EngineOptions()
        let fault = SendFault(errno: ENOBUFS, every: 1, times: 3)  // the first three calls find no buffers
        options.sendFault = fault
        let sent = try runJob(sendSpec(to: port, duration: 30, batch: 8, maxPackets: 8), options: options)
        #expect(sent.sent.packets == 8 && sent.sent.backoffs == 3 && sent.sent.errors == ["no_buffers": 3])
        #expect(sent.sent.skipped == 0)
        let failures = fault.failureTimes
        #expect(failures.count == 3)
        // The back-off doubles: 50, 100, 200 µs. The datagrams carry the time they really left,
        // after the last pause, not the time they were first prepared.
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 2_048)
        for _ in 0..<8 {
            let n = recv(fd, &buffer, buffer.count, 0)
            try #require(n == 64)
            let stamp = try #require(buffer.withUnsafeBytes { Stamp.read($0.baseAddress!, length: n) })
            #expect(stamp.sentNanos >= failures[2] + 200_000)
        }
    }

    @Test func thePolicyNamesWhatEachErrnoGets() {
        #expect(SendPolicy(errno: ENOBUFS) == .backOff && SendPolicy(errno: EAGAIN) == .backOff)
        #expect(SendPolicy(errno: ECONNREFUSED) == .retryNow)
        for code in [EMSGSIZE, EINVAL, EPERM, EACCES, ENETUNREACH, EHOSTUNREACH] { #expect(SendPolicy(errno: code) == .skip) }
        #expect(ReceivePolicy(errno: EAGAIN) == .idle && ReceivePolicy(errno: ECONNREFUSED) == .retryNow)
        #expect(ReceivePolicy(errno: ENOMEM) == .backOff)
        // EINTR is the echo worker's own wake timer: neither an error nor a reason to pause.
        #expect(SendPolicy(errno: EINTR) == .interrupted && ReceivePolicy(errno: EINTR) == .idle)
        var backoff = Backoff()
        let pauses = (0..<10).map { _ in backoff.take() }
        #expect(pauses.prefix(4) == [50_000, 100_000, 200_000, 400_000] && pauses.max() == Backoff.cap)
        backoff.reset()
        #expect(backoff.take() == Backoff.first)
    }

    /// The loop over a scripted call: a short count, a skip in the middle, a retry; what went out,
    /// what was skipped and what was re-stamped from where.
    @Test func theSendLoopFollowsThePolicyOverAScriptedCall() {
        final class Messages: OutgoingMessages {
            var sentOrder: [Int] = []
            var restamps: [Int] = []
            func datagrams(_ m: Int) -> Int { m == 2 ? 4 : 1 }  // message 2 is a 4-segment GSO message
            func bytes(_ m: Int) -> Int { datagrams(m) * 100 }
            func sent(_ m: Int) { sentOrder.append(m) }
            func restamp(from m: Int, count: Int, now: UInt64) { restamps.append(m) }
        }
        let script = [BatchOutcome(count: 2, errno: 0, syscalls: 1),          // 0, 1 go; a short count
                      BatchOutcome(count: 0, errno: EMSGSIZE, syscalls: 1),   // 2 is skipped (4 datagrams)
                      BatchOutcome(count: 0, errno: ECONNREFUSED, syscalls: 1), // 3 retried at once
                      BatchOutcome(count: 2, errno: 0, syscalls: 1)]          // 3, 4 go
        var calls = 0
        var asked: [Range<Int>] = []
        let messages = Messages()
        let counters = DirectionCounters()
        var backoff = Backoff()
        let tally = BatchSender.loop(messages, count: 5, perCallLimit: 8, counters: counters, deadline: .max,
                                     stop: StopSignal(), backoff: &backoff) { offset, count in
            asked.append(offset..<(offset + count))
            defer { calls += 1 }
            return script[calls]
        }
        #expect(tally == SendTally(messages: 4, datagrams: 4, skipped: 4))
        #expect(asked == [0..<5, 2..<5, 3..<5, 3..<5])
        #expect(messages.sentOrder == [0, 1, 3, 4] && messages.restamps == [3, 3])
        let totals = counters.totals(withPartialBatches: true)
        #expect(totals.packets == 4 && totals.bytes == 400 && totals.syscalls == 4 && totals.partialBatches == 1)
        #expect(totals.skipped == 4 && totals.backoffs == 0)
        #expect(totals.errors == ["message_too_long": 1, "connection_refused": 1])
    }
}

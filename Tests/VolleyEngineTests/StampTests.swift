import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

private func stampEcho(_ target: Endpoint, rate: Int = 5_000, maxPackets: Int = 2_000, payload: Int = 64, flows: Int = 1,
                       threads: Int = 1, stateful: Bool = true) -> JobSpec {
    var spec = JobSpec(mode: .echo, target: target, durationSeconds: 10, ratePPS: rate, payloadBytes: payload,
                       threads: threads, flows: flows, maxPackets: maxPackets, echoTimeoutMilliseconds: 500)
    spec.echoProtocol = .stamp
    spec.stateful = stateful
    return spec
}

private func stampReflect(_ port: UInt16, maxPackets: Int, stateful: Bool = false, rate: Int = 0,
                          format: StampTimestampFormat = .ntp) -> JobSpec {
    var spec = JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 20, ratePPS: rate, maxPackets: maxPackets)
    spec.echoProtocol = .stamp
    spec.stateful = stateful
    spec.timestampFormat = format
    return spec
}

/// A Session-Sender packet as RFC 8762 §4.2.1 lays it out, built here byte by byte.
private func senderPacket(sequence: UInt32, ssid: UInt16 = 7, length: Int = 44, tail: [UInt8] = []) -> [UInt8] {
    var bytes = withUnsafeBytes(of: sequence.bigEndian, Array.init)
    bytes += withUnsafeBytes(of: UInt64(0xE000_0000_8000_0000).bigEndian, Array.init)  // T1
    bytes += [0x00, 0x01] + withUnsafeBytes(of: ssid.bigEndian, Array.init)
    bytes += [UInt8](repeating: 0, count: 28)
    bytes += tail
    return bytes + [UInt8](repeating: 0, count: max(0, length - bytes.count))
}

private func field<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, _: T.Type) -> T {
    bytes[offset..<offset + MemoryLayout<T>.size].reduce(T.zero) { $0 << 8 | T($1) }
}

@Suite(.serialized) struct StampEchoTests {
    /// Volley's Session-Sender against Volley's Session-Reflector: Volley's own exact accounting,
    /// with the turnaround and (one host, one clock) one-way delays, on both I/O paths.
    @Test(arguments: IOMethod.allCases)
    func senderAndReflectorLoseNothing(method: IOMethod) throws {
        var options = EngineOptions()
        options.ioMethod = method
        let port = freeUDPPort()
        let (_, reflected) = try launch(stampReflect(port, maxPackets: 3_000, stateful: true), options: options)
        let report = try runJob(stampEcho(loopback(port), rate: 10_000, maxPackets: 3_000, flows: 3, threads: 2),
                                options: options)
        let echo = try #require(report.echo)
        #expect(echo.sent == 3_000 && echo.received == 3_000 && echo.lost == 0)
        #expect(echo.duplicates == 0 && echo.late == 0 && echo.foreign == 0)
        let stamp = try #require(report.stamp)
        #expect(stamp.sharedClock && stamp.oneWayValid)
        #expect(stamp.reflectorTimestampFormat == "ntp")
        let rtt = try #require(report.latency), turnaround = try #require(stamp.turnaroundUs)
        let forward = try #require(stamp.forwardUs), backward = try #require(stamp.backwardUs)
        #expect(rtt.count == 3_000 && turnaround.count == 3_000 && forward.count == 3_000 && backward.count == 3_000)
        // One clock: forward + backward is the round trip without the turnaround, datagram by datagram,
        // so their means add up (to within the µs truncation of each of the 3,000 values).
        #expect(abs(forward.mean + backward.mean - rtt.mean) <= 1.0, "\(forward.mean) + \(backward.mean) vs \(rtt.mean)")
        #expect(stamp.negativeOneWay == 0 && stamp.turnaroundOverRTT == 0)
        #expect(stamp.loss == StampLoss(attributed: true, forward: 0, backward: 0, unknown: 0))
        let reflect = reflected()
        #expect(reflect.received.packets == 3_000 && reflect.sent.packets == 3_000)
        let totals = try #require(reflect.reflect?.stamp)
        #expect(totals.stateful && totals.sessions == 6)  // 2 threads × 3 flows, one session each
        #expect(totals.kernelReceiveTimestamps == 3_000 && totals.appReceiveTimestamps == 0)
        #expect(totals.tlvsUnrecognized == 0 && totals.tlvsMalformed == 0)
    }

    /// Requests the stateful reflector drops at its rate cap never reach its counter: the sender
    /// sees them as lost on the way there, exactly, and nothing as lost on the way back.
    @Test func aStatefulReflectorSplitsLossByDirection() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(stampReflect(port, maxPackets: 2_000, stateful: true, rate: 500))
        let report = try runJob(stampEcho(loopback(port), rate: 4_000, maxPackets: 2_000))
        let echo = try #require(report.echo)
        let loss = try #require(report.stamp?.loss)
        let refused = try #require(reflected().reflect)
        #expect(echo.sent == 2_000 && echo.lost > 0)
        #expect(loss.attributed)
        let forward = try #require(loss.forward), backward = try #require(loss.backward), unknown = try #require(loss.unknown)
        #expect(forward + backward + unknown + echo.late == echo.lost)
        // Dropped at the cap: before the last answered datagram they are forward loss, after it unknown.
        #expect(forward + unknown == refused.rateLimited)
        #expect(backward == report.received.kernelDrops)
    }

    /// Without "stateful": true the reflector's numbers are not trusted to split loss.
    @Test func statelessLossIsRoundTripOnly() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(stampReflect(port, maxPackets: 500))
        let report = try runJob(stampEcho(loopback(port), rate: 5_000, maxPackets: 500, stateful: false))
        _ = reflected()
        let loss = try #require(report.stamp?.loss)
        #expect(!loss.attributed && loss.forward == nil && loss.note?.contains("stateful") == true)
        #expect(report.echo?.received == 500)
    }

    /// PTP timestamps on the reflector (Z bit) are read as such: the turnaround stays sane.
    @Test func ptpReflectorTimestampsAreDecoded() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(stampReflect(port, maxPackets: 300, format: .ptp))
        var spec = stampEcho(loopback(port), rate: 3_000, maxPackets: 300, payload: 44)
        spec.timestampFormat = .ptp
        let report = try runJob(spec)
        _ = reflected()
        let stamp = try #require(report.stamp)
        #expect(report.echo?.received == 300)
        #expect(stamp.reflectorTimestampFormat == "ptp" && stamp.timestampFormat == .ptp)
        #expect(stamp.turnaroundOverRTT == 0 && stamp.negativeOneWay == 0)
        #expect(try #require(stamp.turnaroundUs).max < 1_000_000)
    }
}

@Suite(.serialized) struct StampReflectorTests {
    /// RFC 8762 §4.3.1 field by field, for a packet built here without Volley's codec.
    @Test func repliesCarryTheSenderFieldsTimestampsAndTTL() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(stampReflect(port, maxPackets: 2))
        let peer = HostilePeer(target: loopback(port))
        let request = senderPacket(sequence: 0xDEAD_BEEF, ssid: 0x1234, length: 60,
                                   tail: [0x80, 0x01, 0x00, 0x0C] + [UInt8](repeating: 0, count: 12))
        #expect(peer.send(request))
        let reply = try #require(peer.receive(seconds: 10))
        #expect(reply.count == 60)
        #expect(field(reply, 0, UInt32.self) == 0xDEAD_BEEF)          // stateless: the sender's number
        #expect(field(reply, 14, UInt16.self) == 0x1234)              // SSID copied
        #expect(field(reply, 24, UInt32.self) == 0xDEAD_BEEF)         // sender sequence
        #expect(field(reply, 28, UInt64.self) == 0xE000_0000_8000_0000) // T1 copied
        #expect(field(reply, 36, UInt16.self) == 0x0001)              // sender error estimate
        #expect(field(reply, 38, UInt16.self) == 0 && reply[41...43].allSatisfy { $0 == 0 })
        #expect(reply[40] == 64)                                      // the loopback default TTL
        let t2 = field(reply, 16, UInt64.self), t3 = field(reply, 4, UInt64.self)
        #expect(t2 > 0 && t3 >= t2)
        #expect(field(reply, 12, UInt16.self) & 0x00FF != 0)          // multiplier never 0
        #expect(Array(reply[44...47]) == [0x00, 0x01, 0x00, 0x0C])    // Extra Padding understood: U cleared
        _ = peer.send(senderPacket(sequence: 1))
        _ = reflected()
    }

    /// Too short, or already a reflector's packet (T2 set): never answered, only counted.
    @Test func reflectorPacketsAndShortDatagramsAreRefused() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(stampReflect(port, maxPackets: 30))
        let peer = HostilePeer(target: loopback(port))
        for i in 0..<10 { #expect(peer.send([UInt8](repeating: 1, count: i * 4))) }
        for i in 0..<10 {
            var bytes = senderPacket(sequence: UInt32(i))
            bytes[20] = 1  // a receive timestamp where a sender has MBZ
            #expect(peer.send(bytes))
        }
        for i in 0..<10 { #expect(peer.send(senderPacket(sequence: UInt32(i)))) }
        let report = reflected()
        var back = 0
        while peer.receive(seconds: 0.5) != nil { back += 1 }
        #expect(back == 10)
        let refused = try #require(report.reflect)
        #expect(refused.refusedUnstamped == 10 && refused.refusedReplies == 10 && report.sent.packets == 10)
    }

    /// Unknown TLVs come back with U set, a TLV longer than the packet with M set; counted.
    @Test func tlvsAreAnsweredPerRFC8972() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(stampReflect(port, maxPackets: 2))
        let peer = HostilePeer(target: loopback(port))
        let unknown: [UInt8] = [0x00, 0xEE, 0x00, 0x04, 1, 2, 3, 4]
        let malformed: [UInt8] = [0x00, 0x01, 0x01, 0x00, 9, 9]
        #expect(peer.send(senderPacket(sequence: 1, tail: unknown + malformed)))
        let reply = try #require(peer.receive(seconds: 10))
        #expect(Array(reply[44...]) == [0x80, 0xEE, 0x00, 0x04, 1, 2, 3, 4, 0x40, 0x01, 0x01, 0x00, 9, 9])
        _ = peer.send(senderPacket(sequence: 2))
        let totals = try #require(reflected().reflect?.stamp)
        #expect(totals.tlvsUnrecognized == 1 && totals.tlvsMalformed == 1)
    }

    /// A stateful reflector numbers each session's replies from 0, whatever the sender's numbers.
    @Test func statefulRepliesAreNumberedPerSession() throws {
        let port = freeUDPPort()
        let (_, reflected) = try launch(stampReflect(port, maxPackets: 6, stateful: true))
        let a = HostilePeer(target: loopback(port)), b = HostilePeer(target: loopback(port))
        var seen: [UInt32] = []
        for (peer, sequence) in [(a, 100), (a, 105), (b, 7), (a, 109), (b, 8), (b, 20)] as [(HostilePeer, UInt32)] {
            #expect(peer.send(senderPacket(sequence: sequence)))
            let reply = try #require(peer.receive(seconds: 10))
            seen.append(field(reply, 0, UInt32.self))
            #expect(field(reply, 24, UInt32.self) == sequence)
        }
        #expect(seen == [0, 1, 0, 2, 1, 2])
        #expect(reflected().reflect?.stamp?.sessions == 2)
    }
}

@Suite struct StampCodecTests {
    @Test(arguments: [StampTimestampFormat.ntp, .ptp])
    func timestampsComeBackExact(format: StampTimestampFormat) {
        let clock = StampClock(format: format)
        for mono: UInt64 in [1, 999_999_999, 1_000_000_000, 123_456_789_012_345, MonotonicClock.now()] {
            #expect(clock.monotonic(clock.encode(monotonic: mono)) == mono)
        }
    }

    @Test func anyBitsDecodeWithoutTrapping() {
        for raw: UInt64 in [0, .max, 0xFFFF_FFFF, 0xFFFF_FFFF_0000_0000, 0x8000_0000_8000_0000] {
            _ = StampClock.decode(raw, ptp: false, taiSeconds: 37)
            _ = StampClock.decode(raw, ptp: true, taiSeconds: 37)
        }
        // 1 January 1970 in NTP is 2,208,988,800 s after 1900.
        #expect(StampClock.decode(UInt64(2_208_988_800) << 32 | 1 << 31, ptp: false, taiSeconds: 37) == 500_000_000)
        #expect(StampClock.decode(UInt64(37) << 32 | 5, ptp: true, taiSeconds: 37) == 5)
    }

    @Test func errorEstimatesStateTheErrorWithANonZeroMultiplier() {
        for nanos: Int64 in [1, 1_000, 1_000_000, 16_000_000_000] {
            let e = StampClock.errorEstimate(synchronized: true, ptp: false, errorNanos: nanos)
            #expect(e & 0x8000 != 0 && e & 0x4000 == 0 && e & 0xFF != 0)
            let stated = StampClock.errorNanos(e)
            #expect(stated >= Double(nanos) && stated <= Double(nanos) * 2 + 1)
        }
        #expect(StampClock.errorEstimate(synchronized: false, ptp: true, errorNanos: 5) & 0xC000 == 0x4000)
    }

    @Test func sequenceNumbersExtendAcrossTheWrap() {
        #expect(StampEchoState.extend(5, sentSoFar: 0) == nil)
        #expect(StampEchoState.extend(5, sentSoFar: 6) == 5)
        #expect(StampEchoState.extend(6, sentSoFar: 6) == nil)
        #expect(StampEchoState.extend(0xFFFF_FFFF, sentSoFar: (1 << 32) + 10) == 0xFFFF_FFFF)
        #expect(StampEchoState.extend(3, sentSoFar: (1 << 32) + 10) == (1 << 32) + 3)
    }

    @Test func theSessionTableStaysBoundedAndEvictsOnlyIdleSessions() {
        var sessions = StampSessions(limit: 2)
        var address = sockaddr_storage()
        func next(port: UInt16, at now: UInt64) -> UInt32? {
            withUnsafeMutableBytes(of: &address) { raw in
                raw.storeBytes(of: sa_family_t(AF_INET), toByteOffset: 0, as: sa_family_t.self)
                raw.storeBytes(of: port.bigEndian, toByteOffset: 2, as: UInt16.self)
            }
            return withUnsafePointer(to: &address) { sessions.next(from: $0, ssid: 1, now: now) }
        }
        #expect(next(port: 1, at: 0) == 0 && next(port: 1, at: 1) == 1)
        #expect(next(port: 2, at: 2) == 0)
        #expect(next(port: 3, at: 3) == nil)                              // full, nobody idle long enough
        #expect(next(port: 3, at: StampSessions.idleNanos + 2) == 0)      // port 1 idle for 10 s: evicted
        #expect(sessions.count == 2 && sessions.evicted == 1)
        #expect(next(port: 2, at: StampSessions.idleNanos + 3) == 1)      // the live one kept its count
    }
}

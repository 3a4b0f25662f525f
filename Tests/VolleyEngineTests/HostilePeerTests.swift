import Glibc
import Testing
import VolleyModel
import VolleyTestSupport
@testable import VolleyEngine

/// The hostile test peer checked on its own, so that a test using it fails for the agent's reasons
/// and not the peer's: its stamps are the engine's, it sends exactly what it says, its reflector
/// replays and forges on request, and its spoofed datagram arrives with the forged source.
@Suite(.serialized) struct HostilePeerTests {
    @Test func stampsHaveTheEngineLayout() {
        let stamp = PeerStamp(tag: 0x0102_0304, flow: 0x0506_0708, sequence: 0x1122_3344_5566_7788,
                              sentNanos: 0x99AA_BBCC_DDEE_FF00)
        var engine = [UInt8](repeating: 0, count: 32)
        engine.withUnsafeMutableBytes {
            Stamp.write($0.baseAddress!, tag: stamp.tag, flow: stamp.flow, sequence: stamp.sequence,
                        sentNanos: stamp.sentNanos)
        }
        #expect(stamp.datagram(length: 32) == engine)
        #expect(Array(engine.prefix(4)) == Array("VLY1".utf8))
        #expect(PeerStamp(reading: engine) == stamp)
        let read = stamp.datagram(length: 48).withUnsafeBytes { Stamp.read($0.baseAddress!, length: 48) }
        #expect(read?.tag == stamp.tag && read?.flow == stamp.flow && read?.sequence == stamp.sequence)
        let wrong = PeerStamp(tag: 1, magic: 0x564C_5932).datagram()
        #expect(wrong.withUnsafeBytes { Stamp.read($0.baseAddress!, length: 64) } == nil)
    }

    @Test func attacksSendWhatTheyCount() {
        let recorder = UDPSizeRecorder()
        let peer = HostilePeer(target: Endpoint(address: IPAddress("127.0.0.1")!, port: recorder.port))
        #expect(peer.truncatedStamps(tag: 7) == 32)
        #expect(peer.oversize(tag: 7, lengths: [65_507, 2_000]) == 2)
        #expect(peer.wrongMagic(count: 5, tag: 7) == 5)
        #expect(peer.flood(count: 100, varying: .flow, sockets: 4) == 100)
        #expect(peer.sequenceJumps(count: 10, step: 1 << 21, tag: 7) == 10)
        var expected = Dictionary(uniqueKeysWithValues: (0...31).map { ($0, 1) })
        expected[65_507] = 1
        expected[2_000] = 1
        expected[64] = 115
        #expect(recorder.drain() == expected)
    }

    @Test func reflectorAnswersReplaysAndForgesOverIPv6() throws {
        let reflector = ReplayingReflector(ipv6: true, keep: 4)
        defer { reflector.stop() }
        let peer = HostilePeer(target: reflector.endpoint)
        #expect(peer.sequenceJumps(count: 10, step: 1, tag: 9) == 10)
        #expect(sequences(peer, 10) == Array(0...9))
        #expect(reflector.answered == 10 && reflector.keptCount == 4 && reflector.newestSequence == 9)
        #expect(reflector.replay(rounds: 2) == 8)
        #expect(sequences(peer, 10) == [9, 0, 1, 2, 3, 9, 0, 1, 2, 3])
        #expect(reflector.forge(count: 3) { stamp, i in stamp.sequence += 1_000 + UInt64(i); stamp.tag = 10 } == 3)
        let forged = (0..<3).compactMap { _ in peer.receive().flatMap(PeerStamp.init(reading:)) }
        #expect(forged.map(\.sequence) == [1_009, 1_010, 1_011] && forged.allSatisfy { $0.tag == 10 })
        #expect(peer.receive(seconds: 0.2) == nil)
    }

    @Test func reflectorReplaysByItselfOnceFarEnoughAhead() {
        let reflector = ReplayingReflector(keep: 2, replayBehind: 5)
        defer { reflector.stop() }
        let peer = HostilePeer(target: reflector.endpoint)
        #expect(peer.sequenceJumps(count: 8, step: 1, tag: 9) == 8)
        // 0…7 answered; at 7 (more than 5 past kept 1) the newest and the kept 0 and 1 come again.
        #expect(sequences(peer, 11) == [0, 1, 2, 3, 4, 5, 6, 7, 7, 0, 1])
        #expect(reflector.replayed == 2)
    }

    @Test(.enabled(if: HostilePeer.rawSocketsAvailable,
                   "SKIPPED: spoofing needs a raw socket (run the tests as root or with CAP_NET_RAW)"))
    func spoofedDatagramArrivesWithTheForgedSource() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let port = bindLoopback(fd)
        let forged = Endpoint(address: IPAddress("127.0.0.9")!, port: 4242)
        let sent = try HostilePeer.spoof(from: forged, to: Endpoint(address: IPAddress("127.0.0.1")!, port: port),
                                         payload: PeerStamp(tag: 0xABCD, sequence: 3).datagram(length: 100))
        #expect(sent == 1)
        var buffer = [UInt8](repeating: 0, count: 2048)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = withUnsafeMutablePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
        }
        try #require(n == 100)
        #expect(withUnsafeBytes(of: from.sin_addr) { Array($0) } == [127, 0, 0, 9])
        #expect(UInt16(bigEndian: from.sin_port) == 4242)
        let stamp = PeerStamp(reading: Array(buffer.prefix(n)))
        #expect(stamp?.tag == 0xABCD && stamp?.sequence == 3 && stamp?.magic == PeerStamp.volleyMagic)
    }

    @Test func spoofedPacketHeadersAreWellFormed() {
        let packet = HostilePeer.spoofedPacket(from: Endpoint(address: IPAddress("127.0.0.2")!, port: 1000),
                                               to: Endpoint(address: IPAddress("127.0.0.3")!, port: 2000),
                                               payload: [1, 2, 3])
        #expect(packet.count == 31 && packet[0] == 0x45 && packet[9] == UInt8(IPPROTO_UDP))
        #expect(Array(packet[2..<4]) == [0, 31] && Array(packet[24..<26]) == [0, 11])
        #expect(Array(packet[20..<24]) == [0x03, 0xE8, 0x07, 0xD0])
        // A header with its checksum in place sums to 0xFFFF, whose complement is 0.
        var sum: UInt32 = 0
        for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(packet[i]) << 8 | UInt32(packet[i + 1]) }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        #expect(sum == 0xFFFF)
    }
}

/// The sequence numbers of the next `count` datagrams the peer receives (fewer if they stop coming).
private func sequences(_ peer: HostilePeer, _ count: Int) -> [UInt64] {
    (0..<count).compactMap { _ in peer.receive().flatMap(PeerStamp.init(reading:))?.sequence }
}

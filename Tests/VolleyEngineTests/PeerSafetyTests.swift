import Foundation
import Glibc
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// The engine's defences against what peers send, unit by unit: windows, the reply limiter, the
/// peer filter, exclusive ports and the footprint the admission budget counts.
@Suite(.serialized) struct PeerSafetyTests {
    /// Checks the window against a plain model (every number ever marked, and the highest) over
    /// random traffic with duplicates, reordering, jumps past the window and numbers near 2^63.
    @Test func sequenceWindowAgreesWithAModel() {
        var random = SystemRandomNumberGenerator()
        for bits in [64, 1 << 10, SequenceWindow.defaultBits] {
            var window = SequenceWindow(bits: bits)
            var seen: Set<UInt64> = []
            var highest: Int64 = -1
            var next: UInt64 = 0
            for _ in 0..<20_000 {
                let sequence: UInt64
                switch UInt8.random(in: 0..<10, using: &random) {
                case 0: sequence = next &+ UInt64.random(in: 1...UInt64(3 * bits), using: &random)  // a jump
                case 1: sequence = next > 0 ? UInt64.random(in: 0..<next, using: &random) : 0       // old or duplicate
                case 2: sequence = UInt64.random(in: UInt64(Int64.max) - 2...UInt64.max, using: &random)
                default: sequence = next
                }
                let expected: SequenceWindow.Outcome
                if sequence >= UInt64(Int64.max) {
                    expected = .tooOld
                } else if Int64(sequence) > highest {
                    expected = .first
                } else if Int64(sequence) <= highest - Int64(window.bits) {
                    expected = .tooOld
                } else {
                    expected = seen.contains(sequence) ? .duplicate : .reordered
                }
                #expect(window.mark(sequence) == expected, "bits \(bits), sequence \(sequence), highest \(highest)")
                if expected == .first || expected == .reordered { seen.insert(sequence) }
                if expected == .first { highest = Int64(sequence) }
                if sequence < UInt64(Int64.max) { next = max(next, sequence + 1) }
            }
            #expect(window.unique == UInt64(seen.count))
        }
    }

    @Test func aWindowCostsItsSizeNotTheJump() {
        var window = SequenceWindow()
        #expect(window.bits == 65_536)
        #expect(SequenceWindow.defaultBytes == 8_192)
        // 2^21 jumps, as in the flood the issue describes: each clears the window at most once.
        for i in 0..<300 { #expect(window.mark(UInt64(i) << 21) == .first) }
        #expect(window.mark(299 << 21) == .duplicate)
        #expect(window.mark(298 << 21) == .tooOld)
        #expect(window.unique == 300)
    }

    @Test func replyLimiterHoldsItsRate() {
        var limiter = ReplyLimiter(perSecond: 1_000, batch: 64, now: 0)
        var allowed = 0
        // One request every 10 µs for one second: 100,000 asked, the burst plus 1,000 answered.
        for i in 0..<100_000 where limiter.take(1, now: UInt64(i) * 10_000) { allowed += 1 }
        #expect(allowed >= 1_063 && allowed <= 1_065)
        var unlimited = ReplyLimiter(perSecond: 0, batch: 64, now: 0)
        #expect((0..<10_000).allSatisfy { unlimited.take(64, now: UInt64($0)) })
    }

    @Test func peerFilterAnswersOnlyAllowedOthers() throws {
        let specific = PeerFilter(allowlist: CIDR.loopback, listen: loopback(9_000), localAddresses: [])
        #expect(specific.judge(address("127.0.0.5", 40_000)) == .allowed)
        #expect(specific.judge(address("127.0.0.1", 9_001)) == .allowed)
        #expect(specific.judge(address("127.0.0.1", 9_000)) == .ownSocket)
        #expect(specific.judge(address("198.18.0.1", 40_000)) == .outsideAllowlist)
        #expect(specific.judge(address("::1", 40_000)) == .allowed)
        #expect(specific.judge(address("::2", 40_000)) == .outsideAllowlist)
        let narrow = PeerFilter(allowlist: [CIDR("127.0.0.2/32")!, CIDR("fd00::/8")!], listen: loopback(9_000), localAddresses: [])
        #expect(narrow.judge(address("127.0.0.1", 40_000)) == .outsideAllowlist)
        #expect(narrow.judge(address("127.0.0.2", 40_000)) == .allowed)
        #expect(narrow.judge(address("fd12::1", 40_000)) == .allowed)
        #expect(narrow.judge(address("fe80::1", 40_000)) == .outsideAllowlist)
        let everything = PeerFilter(allowlist: [CIDR("0.0.0.0/0")!, CIDR("::/0")!],
                                    listen: Endpoint(address: IPAddress("0.0.0.0")!, port: 9_000),
                                    localAddresses: [IPAddress("198.18.0.7")!])
        #expect(everything.judge(address("203.0.113.9", 9_000)) == .allowed)
        #expect(everything.judge(address("198.18.0.7", 9_000)) == .ownSocket)
        #expect(everything.judge(address("127.0.0.9", 9_000)) == .ownSocket)
        #expect(everything.judge(address("198.18.0.7", 9_001)) == .allowed)
    }

    /// Another process's SO_REUSEPORT socket on the port: a multi-thread sink must not join its group.
    @Test(arguments: [JobSpec.Mode.sink, .reflect])
    func multiThreadReceiversDoNotJoinAForeignPortGroup(mode: JobSpec.Mode) throws {
        let foreign = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(foreign) }
        var one: Int32 = 1
        setsockopt(foreign, SOL_SOCKET, SO_REUSEPORT, &one, 4)
        let port = bindLoopback(foreign)
        let spec = JobSpec(mode: mode, listen: loopback(port), durationSeconds: 1, threads: 4)
        #expect(throws: EngineError.addressInUse(loopback(port))) { _ = try JobRun(spec: spec) }
        let single = JobSpec(mode: mode, listen: loopback(port), durationSeconds: 1)
        #expect(throws: EngineError.addressInUse(loopback(port))) { _ = try JobRun(spec: single) }
    }

    @Test func multiThreadSinkOnAFreePortCountsEverything() throws {
        let port = freeUDPPort()
        let run = try JobRun(spec: JobSpec(mode: .sink, listen: loopback(port), durationSeconds: 30, threads: 4, maxPackets: 2_000))
        let done = DispatchSemaphore(value: 0)
        let box = ReportBox()
        run.start { box.report = $0; done.signal() }
        let sender = UDPEchoClient(port: port)
        var sent = 0
        while sent < 2_000 { sent += sender.send(count: 2_000 - sent, size: 64) }
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(box.report?.received.packets == 2_000)
    }

    /// The admission budget's figure is what the workers really allocate (plus small fixed parts).
    @Test(arguments: [
        JobSpec(mode: .send, target: loopback(9), durationSeconds: 0.2, ratePPS: 100, payloadBytes: 65_507, batch: 512, threads: 2),
        JobSpec(mode: .send, target: loopback(9), durationSeconds: 0.2, ratePPS: 100, payloadBytes: 1_400, batch: 256, gso: true),
        JobSpec(mode: .echo, target: loopback(9), durationSeconds: 0.2, ratePPS: 100, payloadBytes: 9_000, batch: 256, flows: 4,
                echoTimeoutMilliseconds: 10),
        JobSpec(mode: .sink, listen: loopback(0), durationSeconds: 0.2, batch: 1_024, threads: 2),
        JobSpec(mode: .reflect, listen: loopback(0), durationSeconds: 0.2, batch: 1_024, threads: 2),
        stamp(JobSpec(mode: .echo, target: loopback(9), durationSeconds: 0.2, ratePPS: 100, payloadBytes: 1_000, batch: 128,
                      flows: 3, echoTimeoutMilliseconds: 10)),
        stamp(JobSpec(mode: .reflect, listen: loopback(0), durationSeconds: 0.2, batch: 512, threads: 2), stateful: true),
    ])
    func footprintCoversWhatWorkersAllocate(spec: JobSpec) throws {
        var spec = spec
        if spec.listen != nil { spec.listen = loopback(freeUDPPort()) }
        let run = try JobRun(spec: spec)
        #expect(run.allocatedBytes == 0)  // nothing before the start
        let done = DispatchSemaphore(value: 0)
        run.start { _ in done.signal() }
        done.wait()
        let footprint = JobFootprint(spec: spec)
        let allocated = run.allocatedBytes
        #expect(allocated > 0)
        #expect(allocated <= footprint.memoryBytes)
        // What the footprint adds beyond the buffers: histograms, timelines, and a sink's flow windows.
        let stampHistograms = spec.mode == .echo && spec.echoProtocol == .stamp ? 3 * (spec.threads * 2 + 1) * JobFootprint.histogramBytes : 0
        let fixed = spec.threads * 3 * JobFootprint.histogramBytes + (spec.mode == .sink ? 1_024 * (8_192 + 128) : 0) + 64 << 10
            + stampHistograms
        #expect(footprint.memoryBytes - allocated <= fixed, "footprint \(footprint.memoryBytes), allocated \(allocated)")
        let warmUpSockets = spec.mode == .echo && spec.warmUp ? spec.threads : 0  // echo's loopback warm-up
        #expect(footprint.sockets == (spec.mode.originates ? spec.threads * spec.flows + warmUpSockets : spec.threads))
    }
}

private func stamp(_ spec: JobSpec, stateful: Bool = false) -> JobSpec {
    var spec = spec
    spec.echoProtocol = .stamp
    spec.stateful = stateful
    return spec
}

private func address(_ text: String, _ port: UInt16) -> UnsafePointer<sockaddr_storage> {
    let storage = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: 1)  // a test-lifetime leak, on purpose
    storage.initialize(to: sockaddr_storage())
    let endpoint = Endpoint(address: IPAddress(text)!, port: port)
    try! endpoint.withSockAddr { sa, length in UnsafeMutableRawPointer(storage).copyMemory(from: sa, byteCount: Int(length)) }
    return UnsafePointer(storage)
}

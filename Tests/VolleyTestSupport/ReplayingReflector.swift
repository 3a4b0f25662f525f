import Foundation
import Glibc
import Synchronization
import VolleyModel

/// An echo reflector on 127.0.0.1 or [::1] that answers every datagram honestly (from its own
/// thread) and misbehaves only when asked: it keeps the first `keep` stamped datagrams it answered
/// and can send them again later (valid stamps, old sequence numbers), or forge replies from the
/// newest one with another tag, flow or sequence number. With `replayBehind`, it replays by itself
/// once it has answered a sequence number more than that far past the newest kept one — the echo
/// replay that needs over 2^21 datagrams, too many for a test to drive step by step.
public final class ReplayingReflector: @unchecked Sendable {  // fd immutable; state under `state`'s lock
    public let port: UInt16
    public let ipv6: Bool
    private let fd: Int32
    private let keep: Int
    private let replayBehind: UInt64?
    private let replayRounds: Int
    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)
    private let state = Locked(State())

    private struct State {
        var kept: [[UInt8]] = []
        var keptMaxSequence: UInt64 = 0
        var newest: [UInt8]?
        var newestSequence: UInt64 = 0
        var client: sockaddr_storage?
        var clientLength = socklen_t(0)
        var answered = 0
        var replayed = 0
    }

    public init(ipv6: Bool = false, keep: Int = 1024, replayBehind: UInt64? = nil, replayRounds: Int = 1) {
        self.ipv6 = ipv6
        self.keep = keep
        self.replayBehind = replayBehind
        self.replayRounds = replayRounds
        fd = openUDPSocket(ipv6: ipv6)
        var tv = timeval(tv_sec: 0, tv_usec: 20_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        port = ipv6 ? bindLoopback6(fd) : bindLoopback(fd)
        Thread { [self] in serve() }.start()
    }

    deinit { close(fd) }

    /// The reflector's address, for an echo job's `target`.
    public var endpoint: Endpoint { Endpoint(address: IPAddress(ipv6 ? "::1" : "127.0.0.1")!, port: port) }
    /// Honest replies sent so far.
    public var answered: Int { state.withLock { $0.answered } }
    /// Replays and forgeries sent so far (by `replay`, `forge` or the automatic replay).
    public var replayed: Int { state.withLock { $0.replayed } }
    /// Stamped datagrams kept for replay.
    public var keptCount: Int { state.withLock { $0.kept.count } }
    /// The highest sequence number answered so far.
    public var newestSequence: UInt64 { state.withLock { $0.newestSequence } }

    /// Sends every kept reply again, `rounds` times, each round led by the newest reply (so the client
    /// has just seen it and the kept ones are as far behind as they can be). Returns the kept replies sent.
    @discardableResult
    public func replay(rounds: Int = 1) -> Int {
        let (kept, newest, client, length) = state.withLock { ($0.kept, $0.newest, $0.client, $0.clientLength) }
        guard var client, let newest else { return 0 }
        var sent = 0
        for _ in 0..<rounds {
            _ = sendTo(&client, length, newest)
            for reply in kept where counted({ sendTo(&client, length, reply) }) { sent += 1 }
        }
        return sent
    }

    /// Sends `count` copies of the newest reply with its stamp changed by `change` (called with the
    /// stamp and the copy's index): a wrong tag, a flow the job does not have, a sequence number from
    /// the future. Returns how many went out.
    @discardableResult
    public func forge(count: Int, _ change: (inout PeerStamp, Int) -> Void) -> Int {
        let (newest, client, length) = state.withLock { ($0.newest, $0.client, $0.clientLength) }
        guard var client, let newest, var stamp = PeerStamp(reading: newest) else { return 0 }
        let original = stamp
        var sent = 0
        for i in 0..<count {
            stamp = original
            change(&stamp, i)
            var bytes = newest
            bytes.replaceSubrange(0..<PeerStamp.size, with: stamp.datagram(length: PeerStamp.size))
            if counted({ sendTo(&client, length, bytes) }) { sent += 1 }
        }
        return sent
    }

    /// Counts a replay before it leaves (a client holding it sees the count), uncounting a failed send.
    private func counted(_ send: () -> Bool) -> Bool {
        state.withLock { $0.replayed += 1 }
        if send() { return true }
        state.withLock { $0.replayed -= 1 }
        return false
    }

    /// Stops answering; waits for the thread to end.
    public func stop() {
        running.store(false, ordering: .relaxed)
        done.wait()
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var autoReplayed = false
        while running.load(ordering: .relaxed) {
            var from = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, &buffer, buffer.count, 0, $0, &length)
                }
            }
            guard n >= 0 else { continue }
            let data = Array(buffer.prefix(n))
            // The state is updated before the reply leaves, so a client that has the reply sees it.
            let due = state.withLock { s -> Bool in
                s.answered += 1
                guard let stamp = PeerStamp(reading: data), stamp.magic == PeerStamp.volleyMagic else { return false }
                if s.kept.count < keep {
                    s.kept.append(data)
                    s.keptMaxSequence = max(s.keptMaxSequence, stamp.sequence)
                }
                if s.newest == nil || stamp.sequence >= s.newestSequence {
                    (s.newest, s.newestSequence, s.client, s.clientLength) = (data, stamp.sequence, from, length)
                }
                guard let behind = replayBehind else { return false }
                return s.newestSequence > s.keptMaxSequence &+ behind
            }
            if !sendTo(&from, length, data) { state.withLock { $0.answered -= 1 } }
            if due && !autoReplayed {
                autoReplayed = true
                replay(rounds: replayRounds)
            }
        }
        done.signal()
    }

    private func sendTo(_ address: inout sockaddr_storage, _ length: socklen_t, _ data: [UInt8]) -> Bool {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, data, data.count, 0, $0, length) }
        } == data.count
    }
}

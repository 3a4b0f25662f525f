import CBatchIO
import Glibc

/// What a failed send call means, and so what the send loop does about it. The one written-down
/// policy of every sending worker (send, echo, reflect); Benchmarks/README.md and the result's
/// `errors`, `backoffs` and `skipped` counters follow it.
enum SendPolicy: Equatable {
    /// EINTR: a signal (the echo worker's own wake timer) interrupted a send that was waiting for
    /// buffer space. Not an error of the datagram or the path: sent again at once, not counted.
    case interrupted
    /// ECONNREFUSED on a connected socket reports an *earlier* datagram's ICMP error, once; this
    /// message did not go out and is sent again at once.
    case retryNow
    /// Buffer pressure (ENOBUFS, EAGAIN after the socket's send timeout, ENOMEM): the same messages
    /// again after a bounded back-off, re-stamped, so an RTT never includes our own pause.
    case backOff
    /// Anything else is a property of this datagram or path (EMSGSIZE, EINVAL, EPERM, unreachable…)
    /// that a retry would meet again: the message is skipped, its datagrams counted as `skipped`,
    /// and the loop goes on with the next one.
    case skip

    init(errno code: Int32) {
        switch code {
        case EINTR: self = .interrupted
        case ECONNREFUSED: self = .retryNow
        case ENOBUFS, EAGAIN, ENOMEM: self = .backOff
        default: self = .skip
        }
    }
}

/// What the send loop needs from a worker's prepared messages.
protocol OutgoingMessages: AnyObject {
    /// Datagrams message `m` stands for (more than one with GSO) and their payload bytes.
    func datagrams(_ m: Int) -> Int
    func bytes(_ m: Int) -> Int
    /// Message `m` went out.
    func sent(_ m: Int)
    /// Messages `m..<count` will go out at `now`, after a retry or a skipped message: stamps them
    /// again (send time, and sequence numbers, so a skipped datagram leaves no gap).
    func restamp(from m: Int, count: Int, now: UInt64)
}

/// How one `send` ended.
struct SendTally: Equatable {
    /// Messages and datagrams the kernel took.
    var messages = 0
    var datagrams = 0
    /// Datagrams given up on under `SendPolicy.skip`.
    var skipped = 0
}

/// The send loop every sending worker uses: as many calls as it takes to move `count` prepared
/// messages (at most `perCallLimit` a call), following `SendPolicy` on failures, and counting
/// everything into the worker's `DirectionCounters`. It stops early only at `deadline` or `stop`.
struct BatchSender {
    private(set) var io: BatchIO
    let perCallLimit: Int
    private var backoff = Backoff()
    private let fault: SendFault?

    init(method: IOMethod, perCallLimit: Int, fault: SendFault? = nil) {
        io = BatchIO(method: method)
        self.perCallLimit = max(1, perCallLimit)
        self.fault = fault
    }

    @inline(__always)
    mutating func send<M: OutgoingMessages>(_ messages: M, headers: UnsafeMutablePointer<CBatchIO_mmsghdr>, count: Int,
                                            fd: Int32, counters: DirectionCounters, deadline: UInt64,
                                            stop: StopSignal) -> SendTally {
        var io = self.io
        defer { self.io = io }
        let fault = self.fault
        return Self.loop(messages, count: count, perCallLimit: perCallLimit, counters: counters, deadline: deadline,
                         stop: stop, backoff: &backoff) { offset, ask in
            if let fault, fault.fails() { return BatchOutcome(count: 0, errno: fault.errno, syscalls: 1) }
            return io.send(fd: fd, headers + offset, count: ask)
        }
    }

    /// The loop itself, over any call that behaves like `BatchIO.send` (tests script one).
    @inline(__always)
    static func loop<M: OutgoingMessages>(_ messages: M, count: Int, perCallLimit: Int, counters: DirectionCounters,
                                          deadline: UInt64, stop: StopSignal, backoff: inout Backoff,
                                          call: (_ offset: Int, _ count: Int) -> BatchOutcome) -> SendTally {
        var tally = SendTally()
        var offset = 0
        while offset < count {
            let outcome = call(offset, min(count - offset, perCallLimit))
            counters.syscalls.wrappingAdd(UInt64(outcome.syscalls), ordering: .relaxed)
            if outcome.count > 0 {
                var datagrams = 0
                var bytes = 0
                for m in offset..<(offset + outcome.count) {
                    datagrams &+= messages.datagrams(m)
                    bytes &+= messages.bytes(m)
                    messages.sent(m)
                }
                counters.add(packets: datagrams, bytes: bytes)
                tally.messages &+= outcome.count
                tally.datagrams &+= datagrams
                offset += outcome.count
                if offset < count { counters.partialBatches.wrappingAdd(1, ordering: .relaxed) }
                backoff.reset()
                continue
            }
            let policy = SendPolicy(errno: outcome.errno)
            if policy != .interrupted { counters.countError(ErrorCategory(errno: outcome.errno)) }
            switch policy {
            case .interrupted, .retryNow:
                break
            case .backOff:
                if stop.isSet || MonotonicClock.now() >= deadline { return tally }
                counters.backoffs.wrappingAdd(1, ordering: .relaxed)
                MonotonicClock.sleep(nanoseconds: backoff.take())
            case .skip:
                let lost = messages.datagrams(offset)
                tally.skipped &+= lost
                counters.skipped.wrappingAdd(UInt64(lost), ordering: .relaxed)
                offset += 1
            }
            if stop.isSet || MonotonicClock.now() >= deadline { return tally }
            if offset < count { messages.restamp(from: offset, count: count, now: MonotonicClock.now()) }
        }
        return tally
    }
}

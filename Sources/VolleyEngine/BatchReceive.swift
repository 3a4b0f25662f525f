import CBatchIO
import Glibc

/// What a failed receive call means for the receiving workers (sink, reflect, echo).
enum ReceivePolicy: Equatable {
    /// EAGAIN: the socket's receive timeout passed (or a non-blocking drain found the queue empty);
    /// EINTR: the echo worker's wake timer ended a blocking receive at its deadline. Nothing to count.
    case idle
    /// ECONNREFUSED on echo's connected socket reports an earlier datagram's ICMP error: counted,
    /// and the next call goes at once.
    case retryNow
    /// Anything else (ENOMEM, a fault): counted, then a bounded back-off so a persistent fault cannot
    /// spin a core.
    case backOff

    init(errno code: Int32) {
        switch code {
        case EAGAIN, EINTR: self = .idle
        case ECONNREFUSED: self = .retryNow
        default: self = .backOff
        }
    }
}

/// The receive step every receiving worker uses: resets what the last call dirtied, reads a batch,
/// counts syscalls and errors under `ReceivePolicy`, and keeps the kernel's drop count per socket in
/// `counters.kernelDrops`: from the SO_RXQ_OVFL count on the newest datagram of each read until the
/// socket's first drop, then from SO_MEMINFO at most every `dropPollNanos` (`noteDrops`), and from
/// SO_MEMINFO at the end. Both read the same counter (the socket's `sk_drops`).
struct BatchReceiver {
    private(set) var io: BatchIO
    private var backoff = Backoff()
    private var dirty: Int
    /// Per socket: the drop count last added to the counters (the kernel's counter is 32 bits and wraps).
    private var drops: [UInt32]
    /// Per socket: 0 while its drop count comes with the datagrams (SO_RXQ_OVFL); once it has
    /// dropped, when its count is next read with SO_MEMINFO (monotonic ns).
    private var dropPolls: [UInt64]
    /// How often a socket that has dropped has its count read (10 ms: one getsockopt per 10 ms).
    static let dropPollNanos: UInt64 = 10_000_000
    /// Sparse traffic: the last blocking batch read found one datagram, so blocking reads ask for one
    /// (recvmsg, without recvmmsg's second, empty try under MSG_WAITFORONE). Left as soon as two reads
    /// return within `denseNanos` of each other: the queue is filling, batches again.
    private(set) var readsOne = false
    /// When the last blocking read in `readsOne` returned (monotonic ns).
    private var lastReturn: UInt64 = 0
    /// When the last read that found datagrams returned (monotonic ns): the clock read right after
    /// the system call, before the counting that follows it. An echo takes it as the replies' arrival
    /// time, so nothing of ours lies inside a round trip's end.
    private(set) var returnedAt: UInt64 = 0
    /// Datagrams closer than this (20 kpps and up) are dense traffic.
    static let denseNanos: UInt64 = 50_000

    init(method: IOMethod, sockets: Int, capacity: Int) {
        io = BatchIO(method: method)
        dirty = capacity
        drops = [UInt32](repeating: 0, count: sockets)
        dropPolls = [UInt64](repeating: 0, count: sockets)
    }

    /// Reads one batch from socket `index` (`fd`) into `batch`. Returns the messages read; 0 when
    /// there was nothing (idle) or the call failed (counted, and paused on after `backOff`).
    /// With `spinNanos` (a job's `busy_poll_us`), a blocking read is preceded by that long of
    /// non-blocking ones, yielding the CPU between them (so a peer on this CPU can answer): a
    /// datagram due within microseconds is then read without a sleep and a wake-up. `limit` caps the
    /// datagrams read (a spinning echo reads one: `EchoReceiver.pollOne`).
    @inline(__always)
    mutating func receive(_ index: Int, fd: Int32, into batch: MessageBatch, counters: DirectionCounters,
                          flags: Int32 = 0, spinNanos: UInt64 = 0, limit: Int = .max) -> Int {
        if spinNanos > 0 && flags & CBatchIO_MSG_DONTWAIT == 0 {
            let end = MonotonicClock.now() &+ spinNanos
            repeat {
                let count = receiveOnce(index, fd: fd, into: batch, counters: counters, flags: CBatchIO_MSG_DONTWAIT)
                if count > 0 { return count }
                sched_yield()
            } while MonotonicClock.now() < end
        }
        return receiveOnce(index, fd: fd, into: batch, counters: counters, flags: flags, limit: limit)
    }

    @inline(__always)
    private mutating func receiveOnce(_ index: Int, fd: Int32, into batch: MessageBatch, counters: DirectionCounters,
                                      flags: Int32, limit: Int = .max) -> Int {
        batch.resetForReceive(count: dirty)
        let blocking = flags & CBatchIO_MSG_DONTWAIT == 0
        let single = blocking && readsOne
        let outcome = io.receive(fd: fd, batch.headers, count: single ? 1 : min(limit, batch.capacity), flags: flags)
        dirty = outcome.count
        if outcome.count > 0 {
            returnedAt = MonotonicClock.now()
            if blocking { noteDensity(read: outcome.count, single: single, now: returnedAt) }
        }
        guard outcome.count > 0 else {
            switch ReceivePolicy(errno: outcome.errno) {
            case .idle:
                break
            case .retryNow:
                counters.syscalls.wrappingAdd(1, ordering: .relaxed)
                counters.countError(ErrorCategory(errno: outcome.errno))
            case .backOff:
                counters.syscalls.wrappingAdd(1, ordering: .relaxed)
                counters.countError(ErrorCategory(errno: outcome.errno))
                MonotonicClock.sleep(nanoseconds: backoff.take())
            }
            return 0
        }
        backoff.reset()
        counters.syscalls.wrappingAdd(UInt64(outcome.syscalls), ordering: .relaxed)
        noteDrops(index, fd: fd, newest: &batch.headers[outcome.count - 1].msg_hdr, counters: counters)
        return outcome.count
    }

    /// Keeps socket `index`'s drop count after a read. Until the socket first drops, the count comes
    /// with the newest datagram read (the counter only grows, so its value is the one to keep); the
    /// kernel attaches it only once there are drops. From then on it would attach it to every
    /// datagram, and writing that message cost a socket that had overflowed 10-35 % more CPU per
    /// datagram (C sinks, same load; Benchmarks/README.md, "Throughput rounds"): enough that a
    /// sink near its limit, once a hiccup had filled its queue, never caught up again. So at the
    /// first drop SO_RXQ_OVFL goes off on that socket and the count is read with SO_MEMINFO, at
    /// most every `dropPollNanos` while datagrams come (and at the end, `settleDrops`). If the
    /// kernel refuses to switch it off, the count stays on the datagrams.
    @inline(__always)
    private mutating func noteDrops(_ index: Int, fd: Int32, newest: UnsafePointer<msghdr>, counters: DirectionCounters) {
        let poll = dropPolls[index]
        if poll == 0 {
            let seen = CBatchIO_rxq_drops(newest)
            guard seen > 0 else { return }
            note(UInt32(truncatingIfNeeded: seen), socket: index, counters: counters)
            var off: Int32 = 0
            if setsockopt(fd, SOL_SOCKET, CBatchIO_SO_RXQ_OVFL, &off, socklen_t(MemoryLayout<Int32>.size)) == 0 {
                dropPolls[index] = returnedAt &+ Self.dropPollNanos
            }
        } else if returnedAt >= poll {
            let now = CBatchIO_socket_drops(fd)
            if now >= 0 { note(UInt32(truncatingIfNeeded: now), socket: index, counters: counters) }
            dropPolls[index] = returnedAt &+ Self.dropPollNanos
        }
    }

    /// Whether socket `index`'s drop count is read with SO_MEMINFO now (it has dropped; `noteDrops`).
    func pollsDrops(_ index: Int) -> Bool { dropPolls[index] != 0 }

    /// Switches between one-datagram and batch reads (`readsOne`).
    @inline(__always)
    private mutating func noteDensity(read count: Int, single: Bool, now: UInt64) {
        if !single {
            guard count == 1 else { return }
            readsOne = true
            lastReturn = now
            return
        }
        if now &- lastReturn < Self.denseNanos { readsOne = false }
        lastReturn = now
    }

    /// At the end: the socket's own counter, which also holds drops after the last datagram read.
    mutating func settleDrops(_ index: Int, fd: Int32, counters: DirectionCounters) {
        let now = CBatchIO_socket_drops(fd)
        if now >= 0 { note(UInt32(truncatingIfNeeded: now), socket: index, counters: counters) }
    }

    @inline(__always)
    private mutating func note(_ value: UInt32, socket index: Int, counters: DirectionCounters) {
        let delta = value &- drops[index]
        // A cmsg read from an older datagram than the last one noted would look like a huge step.
        guard delta > 0, delta < UInt32.max / 2 else { return }
        drops[index] = value
        counters.kernelDrops.wrappingAdd(UInt64(delta), ordering: .relaxed)
    }
}

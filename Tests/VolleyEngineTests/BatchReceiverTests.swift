import CBatchIO
import Glibc
import Testing
import VolleyTestSupport
@testable import VolleyEngine

/// The receive step's choice between one-datagram reads (sparse traffic: a reply, a probe) and
/// batches (a queue that fills), with exact counts either way.
@Suite struct BatchReceiverTests {
    private func send(_ fd: Int32, count: Int) {
        var payload = [UInt8](repeating: 7, count: 64)
        for _ in 0..<count { #expect(Glibc.send(fd, &payload, payload.count, 0) == 64) }
    }

    /// A batch of `capacity` 128-byte slots with room for the drop count, its counters, and a receiver for one socket.
    private static func receiving(_ method: IOMethod, capacity: Int) -> (MessageBatch, DirectionCounters, BatchReceiver) {
        (MessageBatch(capacity: capacity, slotBytes: 128, withAddresses: false, controlBytes: CBatchIO_rxq_control_size()),
         DirectionCounters(), BatchReceiver(method: method, sockets: 1, capacity: capacity))
    }

    @Test(arguments: IOMethod.allCases)
    func sparseTrafficIsReadOneByOneAndABurstInBatchesAgain(method: IOMethod) {
        let (tx, rx) = connectedLoopbackPair(receiveTimeout: 2)
        defer { close(tx); close(rx) }
        let (batch, counters, fresh) = Self.receiving(method, capacity: 64)
        var receiver = fresh

        // A lone datagram: the batch read finds one, so the next blocking read asks for one: with
        // two queued it returns one of them (a batch read would return both).
        send(tx, count: 1)
        #expect(receiver.receive(0, fd: rx, into: batch, counters: counters) == 1)
        #expect(receiver.readsOne)
        send(tx, count: 2)
        #expect(receiver.receive(0, fd: rx, into: batch, counters: counters) == 1)
        #expect(receiver.receive(0, fd: rx, into: batch, counters: counters) == 1)

        // A queue of 50: two reads that return within 50 µs of each other (here, back to back; only
        // all 50 coming more than 50 µs apart would keep one-datagram reads) bring batches back,
        // and the rest comes in far fewer than 50 reads.
        send(tx, count: 50)
        var read = 0
        var reads = 0
        while read < 50 {
            let count = receiver.receive(0, fd: rx, into: batch, counters: counters)
            #expect(count > 0, "a queued datagram was not read")
            guard count > 0 else { break }
            read += count
            reads += 1
        }
        #expect(read == 50)
        #expect(reads < 50, "the burst was read one datagram at a time")
        #expect(!receiver.readsOne)
        #expect(counters.kernelDrops.load(ordering: .relaxed) == 0)
    }

    /// `returnedAt` is the clock read right after a read that found datagrams (an echo's reply
    /// time), blocking or not, and stays as it was after a read that found nothing.
    @Test(arguments: IOMethod.allCases)
    func aReadWithDatagramsTellsWhenItReturned(method: IOMethod) {
        let (tx, rx) = connectedLoopbackPair(receiveTimeout: 2)
        defer { close(tx); close(rx) }
        let (batch, counters, fresh) = Self.receiving(method, capacity: 8)
        var receiver = fresh
        #expect(receiver.returnedAt == 0)
        for flags in [Int32(0), CBatchIO_MSG_DONTWAIT] {
            send(tx, count: 1)
            let before = MonotonicClock.now()
            #expect(receiver.receive(0, fd: rx, into: batch, counters: counters, flags: flags) == 1)
            let after = MonotonicClock.now()
            #expect(receiver.returnedAt >= before && receiver.returnedAt <= after)
            let kept = receiver.returnedAt
            #expect(receiver.receive(0, fd: rx, into: batch, counters: counters, flags: CBatchIO_MSG_DONTWAIT) == 0)
            #expect(receiver.returnedAt == kept)
        }
    }

    /// A socket that drops: the first read whose newest datagram carries a drop count (SO_RXQ_OVFL)
    /// counts it and switches the socket over to SO_MEMINFO reads, so later datagrams carry none
    /// (writing the count on every one slowed an overflowed sink); read and dropped still add up
    /// exactly to what was sent, before the end (the poll) and after it (`settleDrops`).
    @Test(arguments: IOMethod.allCases)
    func aSocketThatDropsHasItsCountReadWithMeminfoFromThen(method: IOMethod) {
        let (tx, rx) = connectedLoopbackPair(receiveTimeout: 2)
        defer { close(tx); close(rx) }
        var on: Int32 = 1
        var small: Int32 = 1  // the kernel's minimum: a few datagrams
        #expect(setsockopt(rx, SOL_SOCKET, CBatchIO_SO_RXQ_OVFL, &on, socklen_t(MemoryLayout<Int32>.size)) == 0)
        #expect(setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size)) == 0)
        let (batch, counters, fresh) = Self.receiving(method, capacity: 64)
        var receiver = fresh
        var sent = 0
        var read = 0
        func drops() -> Int { Int(counters.kernelDrops.load(ordering: .relaxed)) }
        /// Reads until everything sent is read or counted as dropped (a generous deadline, no timing).
        func readUntilAccounted(settle: Bool) {
            let deadline = MonotonicClock.now() + 20_000_000_000
            while read + drops() < sent && MonotonicClock.now() < deadline {
                if settle { receiver.settleDrops(0, fd: rx, counters: counters) }
                read += receiver.receive(0, fd: rx, into: batch, counters: counters, flags: CBatchIO_MSG_DONTWAIT)
            }
        }

        // Overflow: the queue keeps the first few, whose counts are 0 (no drop yet), so nothing is
        // counted while they are read.
        send(tx, count: 200)
        sent += 200
        while case let count = receiver.receive(0, fd: rx, into: batch, counters: counters, flags: CBatchIO_MSG_DONTWAIT), count > 0 {
            read += count
        }
        #expect(CBatchIO_socket_drops(rx) > 0, "the tiny queue did not overflow")
        #expect(!receiver.pollsDrops(0) && drops() == 0)

        // The next datagram queued carries the count: read, it is counted and the socket switched.
        send(tx, count: 1)
        sent += 1
        read += receiver.receive(0, fd: rx, into: batch, counters: counters)
        #expect(drops() == Int(CBatchIO_socket_drops(rx)))
        #expect(receiver.pollsDrops(0))
        var value: Int32 = -1
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(rx, SOL_SOCKET, CBatchIO_SO_RXQ_OVFL, &value, &length) == 0 && value == 0)

        // Overflow again: the datagrams carry no count now; the poll (every 10 ms while datagrams
        // come) finds the drops, one datagram at a time until it has.
        send(tx, count: 200)
        sent += 200
        let deadline = MonotonicClock.now() + 20_000_000_000
        while drops() < Int(CBatchIO_socket_drops(rx)) && MonotonicClock.now() < deadline {
            let count = receiver.receive(0, fd: rx, into: batch, counters: counters, flags: CBatchIO_MSG_DONTWAIT)
            read += count
            // Only a read that found datagrams rewrote the control space (an empty one leaves the last).
            if count > 0 {
                #expect(CBatchIO_rxq_drops(&batch.headers[count - 1].msg_hdr) < 0, "a datagram still carried the count")
            }
            send(tx, count: 1)
            sent += 1
        }
        #expect(drops() == Int(CBatchIO_socket_drops(rx)))
        readUntilAccounted(settle: false)
        #expect(read + drops() == sent)

        // And after the end: one more overflow, counted by `settleDrops`.
        send(tx, count: 200)
        sent += 200
        readUntilAccounted(settle: true)
        #expect(read + drops() == sent)
    }
}

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
}

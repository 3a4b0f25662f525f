import CBatchIO
import Foundation
import Glibc
import Testing
import VolleyTestSupport

/// The C shim on its own: both the kernel calls and the portable loop move whole batches and keep
/// sendmmsg's return convention.
@Suite struct ShimTests {
    /// A connected sender and a bound receiver on loopback.
    private func socketPair() -> (send: Int32, receive: Int32) { connectedLoopbackPair() }

    /// `count` headers over one buffer of `count * size` bytes, message i filled with byte i.
    private func withMessages<R>(count: Int, size: Int, _ body: (UnsafeMutablePointer<CBatchIO_mmsghdr>) -> R) -> R {
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: count * size)
        let iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: count)
        let headers = UnsafeMutablePointer<CBatchIO_mmsghdr>.allocate(capacity: count)
        defer { buffer.deallocate(); iovecs.deallocate(); headers.deallocate() }
        for i in 0..<count {
            (buffer + i * size).initialize(repeating: UInt8(i), count: size)
            iovecs[i] = iovec(iov_base: buffer + i * size, iov_len: size)
            var header = CBatchIO_mmsghdr()
            header.msg_hdr.msg_iov = iovecs + i
            header.msg_hdr.msg_iovlen = 1
            headers[i] = header
        }
        return body(headers)
    }

    /// One message goes through sendmsg/recvmsg inside the batch calls, with the batch calls'
    /// return convention: 1 and `msg_len` set, or -errno.
    @Test func oneMessageKeepsTheBatchConvention() {
        let (tx, rx) = socketPair()
        defer { close(tx); close(rx) }
        #expect(withMessages(count: 1, size: 40) { CBatchIO_sendmmsg(tx, $0, 1, 0) } == 1)
        let (received, length) = withMessages(count: 1, size: 64) { headers in
            (CBatchIO_recvmmsg(rx, headers, 1, CBatchIO_MSG_WAITFORONE), headers[0].msg_len)
        }
        #expect(received == 1)
        #expect(length == 40)
        #expect(withMessages(count: 1, size: 64) { CBatchIO_recvmmsg(rx, $0, 1, CBatchIO_MSG_DONTWAIT) } == -EAGAIN)
    }

    @Test(arguments: [false, true])
    func batchOfTenGoesOutAndComesBack(useLoop: Bool) {
        let (tx, rx) = socketPair()
        defer { close(tx); close(rx) }
        let sent = withMessages(count: 10, size: 32) { headers in
            useLoop ? CBatchIO_sendmsg_loop(tx, headers, 10, 0) : CBatchIO_sendmmsg(tx, headers, 10, 0)
        }
        #expect(sent == 10)
        let (received, lengths, firstBytes) = withMessages(count: 16, size: 64) { headers in
            let n = useLoop ? CBatchIO_recvmsg_loop(rx, headers, 16, CBatchIO_MSG_WAITFORONE)
                            : CBatchIO_recvmmsg(rx, headers, 16, CBatchIO_MSG_WAITFORONE)
            let count = max(0, Int(n))
            let lengths = (0..<count).map { headers[$0].msg_len }
            let first = (0..<count).map { headers[$0].msg_hdr.msg_iov.pointee.iov_base.load(as: UInt8.self) }
            return (n, lengths, first)
        }
        #expect(received == 10)
        #expect(lengths == Array(repeating: 32, count: 10))
        #expect(firstBytes == (0..<10).map(UInt8.init))  // in order, each message its own payload
    }

    @Test func loopReportsFailureLikeSendmmsg() {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)  // not connected: no destination
        defer { close(fd) }
        let rc = withMessages(count: 4, size: 8) { CBatchIO_sendmsg_loop(fd, $0, 4, 0) }
        #expect(rc == -EDESTADDRREQ)  // the negated errno: nothing to read from errno afterwards
    }

    @Test func emptyReceiveQueueReturnsEAGAINWithoutBlocking() {
        let (tx, rx) = socketPair()
        defer { close(tx); close(rx) }
        let rc = withMessages(count: 4, size: 8) { CBatchIO_recvmsg_loop(rx, $0, 4, CBatchIO_MSG_DONTWAIT) }
        #expect(rc == -EAGAIN)
    }

    /// The wake timer ends a blocking receive on an empty socket at its deadline with EINTR, long
    /// before the socket's own receive timeout (which is what a receive would wait without it).
    @Test(arguments: [false, true])
    func wakeTimerInterruptsABlockingReceive(useLoop: Bool) {
        let (tx, rx) = socketPair()  // SO_RCVTIMEO 1 s on rx
        defer { close(tx); close(rx) }
        var timer = CBatchIO_wake_timer()
        #expect(CBatchIO_wake_timer_create(&timer) == 0)
        defer { CBatchIO_wake_timer_delete(&timer) }
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let start = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        #expect(CBatchIO_wake_timer_arm(&timer, start + 30_000_000, 200_000) == 0)
        let rc = withMessages(count: 4, size: 8) { headers in
            useLoop ? CBatchIO_recvmsg_loop(rx, headers, 4, CBatchIO_MSG_WAITFORONE)
                    : CBatchIO_recvmmsg(rx, headers, 4, CBatchIO_MSG_WAITFORONE)
        }
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let elapsed = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec) - start
        #expect(CBatchIO_wake_timer_arm(&timer, 0, 0) == 0)  // disarmed before anything else runs here
        #expect(rc == -EINTR)
        #expect(elapsed >= 30_000_000)
        #expect(elapsed < 900_000_000, "ended by the socket's 1 s timeout, not the timer: \(elapsed) ns")
        CBatchIO_wake_timer_delete(&timer)
        #expect(CBatchIO_wake_timer_arm(&timer, start, 0) == -EINVAL)  // a deleted timer cannot be armed
    }

    @Test func probesAnswerOnThisKernel() {
        // On Linux ≥ 3.0 both calls exist unless the build forced the fallback.
        #expect(CBatchIO_probe_sendmmsg() == CBatchIO_built_with_mmsg())
        #expect(CBatchIO_probe_recvmmsg() == CBatchIO_built_with_mmsg())
    }
}

/// The scheduler slice request: granted as asked where the kernel has per-task slices, and the
/// thread's nice value kept either way. On a thread of its own, so the test runner's is untouched.
@Suite struct SchedulerSliceShimTests {
    final class Outcome: @unchecked Sendable {  // written before `done` is signalled, read after
        var granted: Int64 = 0
        var niceBefore: Int32 = 0
        var niceAfter: Int32 = 0
    }

    @Test func aShortSliceIsGrantedAndTheNiceValueKept() throws {
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let tid: id_t = 0  // on Linux, PRIO_PROCESS with 0 is the calling thread alone
            let which = __priority_which_t(PRIO_PROCESS.rawValue)
            setpriority(which, tid, 3)
            outcome.niceBefore = getpriority(which, tid)
            outcome.granted = CBatchIO_request_slice(100_000)
            outcome.niceAfter = getpriority(which, tid)
            done.signal()
        }
        thread.start()
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(outcome.niceBefore == 3 && outcome.niceAfter == 3)
        if kernelHasPerTaskSlices {
            #expect(outcome.granted == 100_000)
        } else {
            #expect(outcome.granted != 100_000)
        }
    }
}

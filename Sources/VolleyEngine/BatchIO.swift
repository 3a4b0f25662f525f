import CBatchIO
import Glibc

/// How a worker moves a batch through the kernel.
public enum IOMethod: String, Sendable, CaseIterable {
    /// One sendmmsg/recvmmsg call per batch.
    case batched
    /// The portable loop: one sendmsg/recvmsg per datagram.
    case loop

    /// `batched` when this build has sendmmsg and the kernel implements it, else `loop`.
    public static let preferred: IOMethod =
        CBatchIO_built_with_mmsg() && CBatchIO_probe_sendmmsg() && CBatchIO_probe_recvmmsg() ? .batched : .loop

    var sendName: String { self == .batched ? "sendmmsg" : "sendmsg" }
    var receiveName: String { self == .batched ? "recvmmsg" : "recvmsg" }
}

/// The outcome of one batch call: messages moved, and the errno when it moved none.
struct BatchOutcome {
    var count: Int
    var errno: Int32
    /// System calls it took: one for sendmmsg, one per attempted datagram for the loop.
    var syscalls: Int
}

/// The raw batch calls of one worker. It starts on `method` and drops to the loop for good if the
/// kernel answers ENOSYS (a sendmmsg-less kernel or seccomp filter), without losing the batch. The
/// shim returns `-errno`, so no errno is read after the call. What to do about a failure is
/// `SendPolicy`'s and `ReceivePolicy`'s business, not this type's.
struct BatchIO {
    private(set) var method: IOMethod

    /// A build without sendmmsg (or forced to the fallback) always uses the loop, whatever was asked.
    init(method: IOMethod) { self.method = CBatchIO_built_with_mmsg() ? method : .loop }

    @inline(__always)
    mutating func send(fd: Int32, _ vec: UnsafeMutablePointer<CBatchIO_mmsghdr>, count: Int) -> BatchOutcome {
        while true {
            let n = method == .batched
                ? CBatchIO_sendmmsg(fd, vec, UInt32(count), Int32(MSG_NOSIGNAL))
                : CBatchIO_sendmsg_loop(fd, vec, UInt32(count), Int32(MSG_NOSIGNAL))
            let code = n < 0 ? -n : 0
            if method == .batched {
                if code == ENOSYS { method = .loop; continue }
                return BatchOutcome(count: max(0, Int(n)), errno: code, syscalls: 1)
            }
            let sent = max(0, Int(n))
            return BatchOutcome(count: sent, errno: code, syscalls: sent + (sent < count ? 1 : 0))
        }
    }

    @inline(__always)
    mutating func receive(fd: Int32, _ vec: UnsafeMutablePointer<CBatchIO_mmsghdr>, count: Int,
                          flags extra: Int32 = 0) -> BatchOutcome {
        // MSG_TRUNC makes msg_len the datagram's real size even when it is larger than its slot.
        let flags = CBatchIO_MSG_WAITFORONE | CBatchIO_MSG_TRUNC | extra
        while true {
            let n = method == .batched
                ? CBatchIO_recvmmsg(fd, vec, UInt32(count), flags)
                : CBatchIO_recvmsg_loop(fd, vec, UInt32(count), flags)
            let code = n < 0 ? -n : 0
            if method == .batched && code == ENOSYS { method = .loop; continue }
            let got = max(0, Int(n))
            return BatchOutcome(count: got, errno: code, syscalls: method == .batched ? 1 : got + (got < count ? 1 : 0))
        }
    }
}

/// A bounded exponential back-off for buffer pressure: 50 µs, doubling to at most 1.6 ms, back to
/// 50 µs after any call that moved something. Long enough for a queue to drain a little, short
/// enough that a paced sender loses at most one 10 ms window to it.
struct Backoff {
    static let first: UInt64 = 50_000
    static let cap: UInt64 = 1_600_000
    private var next = Backoff.first

    mutating func reset() { next = Self.first }

    /// The pause to take now; each call doubles the next one, up to the cap.
    mutating func take() -> UInt64 {
        defer { next = min(Self.cap, next * 2) }
        return next
    }
}

import Foundation
import Glibc
import Synchronization

/// The server's open connections as libmicrohttpd reports them (NOTIFY_CONNECTION), with what the
/// request deadline and the soft connection limit need to know of each.
///
/// libmicrohttpd's own timeout is an idle timeout that every byte resets, so a client sending one
/// byte a second would hold a connection for ever; here each request gets a deadline for its header
/// and body, and `cutOverdue` ends the connections past it.
///
/// The table's lock is taken when a connection opens or closes and by the once-a-second reaper. A
/// request reaches its own connection's `ConnectionState` through libmicrohttpd's socket context
/// and moves its deadline with one atomic store: with a lock and a hash lookup on the way in and
/// again on the way out, four pool threads on two CPUs queued on that lock (`perf`, Benchmarks/README.md).
final class ConnectionTable: @unchecked Sendable {  // `table` is only touched under `lock`
    /// Keyed by libmicrohttpd's connection pointer, valid from STARTED to CLOSED. An NSLock (a pthread
    /// mutex), not Synchronization's Mutex: that one waits on a bare futex on Linux, which
    /// ThreadSanitizer cannot see, so every access here was reported as a race.
    private var table: [Int: ConnectionState] = [:]
    private let lock = NSLock()
    /// Past this many open connections, a new one is marked `overLimit`.
    let softLimit: Int
    /// Time allowed for one request's header and body; 0 means no deadline.
    let requestNanoseconds: UInt64
    /// A keep-alive client may stay silent this long before its next request (libmicrohttpd's idle timeout).
    let idleNanoseconds: UInt64

    init(softLimit: Int, requestSeconds: UInt32, idleSeconds: UInt32) {
        self.softLimit = softLimit
        requestNanoseconds = UInt64(requestSeconds) * 1_000_000_000
        idleNanoseconds = UInt64(idleSeconds) * 1_000_000_000
    }

    var count: Int { withEntries { $0.count } }

    /// A connection was accepted: its first request's clock starts now. Returns its state, which the
    /// caller keeps in libmicrohttpd's socket context for the requests to come.
    func opened(_ connection: OpaquePointer, fd: Int32, now: UInt64 = MonotonicClock.now()) -> ConnectionState {
        withEntries {
            let state = ConnectionState(fd: fd, overLimit: $0.count >= softLimit, deadline: deadline(from: now))
            $0[Int(bitPattern: connection)] = state
            return state
        }
    }

    /// libmicrohttpd is about to close the socket (it does so after this notification): forget it, under
    /// the lock `cutOverdue` holds, so the fd is never shut down after its number is reused.
    func closed(_ connection: OpaquePointer) {
        let state = withEntries { $0.removeValue(forKey: Int(bitPattern: connection)) }
        // The order this relies on, checked in debug builds: the socket is still open here.
        assert(state.map { $0.fd < 0 || fcntl($0.fd, F_GETFD) != -1 } ?? true, "libmicrohttpd closed the socket first")
    }

    /// The whole request is in: stop its clock. Returns whether the connection is over the soft limit.
    func received(_ state: ConnectionState) -> Bool {
        state.deadline.store(0, ordering: .relaxed)
        return state.overLimit
    }

    /// The response is out: the next request on this keep-alive connection may first wait up to the
    /// idle timeout, then has the usual time to arrive.
    func completed(_ state: ConnectionState, now: UInt64 = MonotonicClock.now()) {
        state.deadline.store(deadline(from: now).map { $0 + idleNanoseconds } ?? 0, ordering: .relaxed)
    }

    /// Shuts down (never closes: libmicrohttpd owns the fd) every connection whose request is past its
    /// deadline; libmicrohttpd then sees the end of stream and closes it. The syscall happens under the
    /// lock on purpose: `closed` takes the same lock before libmicrohttpd closes the fd. Returns how many.
    @discardableResult
    func cutOverdue(now: UInt64 = MonotonicClock.now()) -> Int {
        withEntries {
            var cut = 0
            for state in $0.values where state.fd >= 0 {
                let deadline = state.deadline.load(ordering: .relaxed)
                // Once is enough; a request that has just come in (deadline now 0) keeps its connection.
                guard deadline != 0, now > deadline,
                      state.deadline.compareExchange(expected: deadline, desired: 0, ordering: .relaxed).exchanged else { continue }
                _ = shutdown(state.fd, Int32(SHUT_RDWR))
                cut += 1
            }
            return cut
        }
    }

    private func withEntries<T>(_ body: (inout [Int: ConnectionState]) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&table)
    }

    private func deadline(from now: UInt64) -> UInt64? {
        requestNanoseconds == 0 ? nil : now + requestNanoseconds
    }
}

/// One open connection, from libmicrohttpd's STARTED notification to its CLOSED one.
final class ConnectionState: Sendable {
    /// The socket, owned by libmicrohttpd; -1 if it could not be read.
    let fd: Int32
    /// The connection was accepted beyond the soft limit: its request is answered `busy`.
    let overLimit: Bool
    /// When the request now arriving must be in (monotonic nanoseconds); 0 while no request is
    /// arriving (the handler runs, the response goes out) or when requests have no deadline.
    let deadline: Atomic<UInt64>

    init(fd: Int32, overLimit: Bool, deadline: UInt64?) {
        self.fd = fd
        self.overLimit = overLimit
        self.deadline = Atomic(deadline ?? 0)
    }
}

/// CLOCK_MONOTONIC in nanoseconds: deadlines must not move with the wall clock.
enum MonotonicClock {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

import Foundation
import Glibc

/// The server's open connections as libmicrohttpd reports them (NOTIFY_CONNECTION), with what the
/// request deadline and the soft connection limit need to know of each.
///
/// libmicrohttpd's own timeout is an idle timeout that every byte resets, so a client sending one
/// byte a second would hold a connection for ever; here each request gets a deadline for its header
/// and body, and `cutOverdue` ends the connections past it.
final class ConnectionTable: @unchecked Sendable {  // `table` is only touched under `lock`
    struct Entry {
        /// The socket, owned by libmicrohttpd; -1 if it could not be read.
        let fd: Int32
        /// The connection was accepted beyond the soft limit: its request is answered `busy`.
        let overLimit: Bool
        /// When the request now arriving must be in (monotonic nanoseconds); nil while no request is
        /// arriving (the handler runs, the response goes out).
        var deadline: UInt64?
    }

    /// Keyed by libmicrohttpd's connection pointer, valid from STARTED to CLOSED. An NSLock (a pthread
    /// mutex), not Synchronization's Mutex: that one waits on a bare futex on Linux, which
    /// ThreadSanitizer cannot see, so every access here was reported as a race.
    private var table: [Int: Entry] = [:]
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

    /// A connection was accepted: its first request's clock starts now.
    func opened(_ connection: OpaquePointer, fd: Int32, now: UInt64 = MonotonicClock.now()) {
        withEntries {
            let overLimit = $0.count >= softLimit
            $0[Int(bitPattern: connection)] = Entry(fd: fd, overLimit: overLimit, deadline: deadline(from: now))
        }
    }

    /// libmicrohttpd is about to close the socket (it does so after this notification): forget it, under
    /// the lock `cutOverdue` holds, so the fd is never shut down after its number is reused.
    func closed(_ connection: OpaquePointer) {
        let entry = withEntries { $0.removeValue(forKey: Int(bitPattern: connection)) }
        // The order this relies on, checked in debug builds: the socket is still open here.
        assert(entry.map { $0.fd < 0 || fcntl($0.fd, F_GETFD) != -1 } ?? true, "libmicrohttpd closed the socket first")
    }

    /// The whole request is in: stop its clock. Returns whether the connection is over the soft limit.
    func received(_ connection: OpaquePointer) -> Bool {
        withEntries {
            // One lookup by index rather than one per field: this runs on every request.
            guard let index = $0.index(forKey: Int(bitPattern: connection)) else { return false }
            $0.values[index].deadline = nil
            return $0.values[index].overLimit
        }
    }

    /// The response is out: the next request on this keep-alive connection may first wait up to the
    /// idle timeout, then has the usual time to arrive.
    func completed(_ connection: OpaquePointer, now: UInt64 = MonotonicClock.now()) {
        let next = deadline(from: now).map { $0 + idleNanoseconds }
        withEntries {
            guard let index = $0.index(forKey: Int(bitPattern: connection)) else { return }
            $0.values[index].deadline = next
        }
    }

    /// Shuts down (never closes: libmicrohttpd owns the fd) every connection whose request is past its
    /// deadline; libmicrohttpd then sees the end of stream and closes it. The syscall happens under the
    /// lock on purpose: `closed` takes the same lock before libmicrohttpd closes the fd. Returns how many.
    @discardableResult
    func cutOverdue(now: UInt64 = MonotonicClock.now()) -> Int {
        withEntries {
            var cut = 0
            for (key, entry) in $0 where entry.fd >= 0 && (entry.deadline.map { now > $0 } ?? false) {
                _ = shutdown(entry.fd, Int32(SHUT_RDWR))
                $0[key]?.deadline = nil  // once is enough
                cut += 1
            }
            return cut
        }
    }

    private func withEntries<T>(_ body: (inout [Int: Entry]) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&table)
    }

    private func deadline(from now: UInt64) -> UInt64? {
        requestNanoseconds == 0 ? nil : now + requestNanoseconds
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

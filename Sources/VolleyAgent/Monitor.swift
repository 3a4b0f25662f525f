import Foundation

/// A value guarded by one lock, with a condition variable tied to that same lock: a thread waiting
/// for the value to change re-checks it under the lock, and a change made under the lock wakes it,
/// so no wake-up is lost between "look at the state" and "go to sleep" (the scheduler's old
/// condition had a lock of its own, and a job submitted in that gap started up to 1 s late).
/// NSCondition is a pthread mutex and condition variable, which ThreadSanitizer understands.
final class Monitor<Value>: @unchecked Sendable {  // every access to `value` holds `condition`
    private let condition = NSCondition()
    private var value: Value

    init(_ value: Value) { self.value = value }

    /// Runs `body` under the lock and wakes every waiter afterwards, as any change may matter to one.
    func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return try body(&value)
    }

    /// Runs `body` under the lock without waking anyone: for reads, and for changes no waiter decides
    /// on (a cached encoding). A read through `withLock` woke the clock thread on every API request
    /// (a futex wake and a context switch, then a scan of every job), about a fifth of the CPU a
    /// `GET /v1/jobs/{id}` cost.
    func withLockQuietly<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body(&value)
    }

    /// What a waiter decides after looking at the value: done with a result, or sleep until a change
    /// or a time, then look again.
    enum Step<R> {
        case done(R)
        case wait(until: Date)
    }

    /// Looks at the value under the lock until `body` is done, sleeping in between. The lock is
    /// released only inside the wait, after `body` has returned.
    func wait<R>(_ body: (inout Value) -> Step<R>) -> R {
        condition.lock()
        defer { condition.unlock() }
        while true {
            switch body(&value) {
            case .done(let result):
                condition.broadcast()
                return result
            case .wait(let date):
                _ = condition.wait(until: date)
            }
        }
    }
}

import Foundation

/// A value guarded by a pthread mutex (through NSLock). Used instead of `Synchronization.Mutex`
/// for state shared with the API: its futex-based lock is invisible to ThreadSanitizer, which then
/// reports every guarded access as a race, and `make test` runs the tests under TSan.
/// Never on the per-packet path.
public final class Locked<Value>: @unchecked Sendable {  // every access to `value` holds `lock`
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

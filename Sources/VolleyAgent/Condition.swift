import Foundation

/// Waits until a predicate holds, re-checking whenever `signal()` is called (or every 100 ms).
final class Condition: Sendable {
    private let condition = NSCondition()

    func signal() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for a `signal()` or until `date`, whichever comes first.
    func wait(until date: Date) {
        condition.lock()
        _ = condition.wait(until: date)
        condition.unlock()
    }

    func wait(until predicate: () -> Bool) {
        condition.lock()
        defer { condition.unlock() }
        while !predicate() { _ = condition.wait(until: Date().addingTimeInterval(0.1)) }
    }
}
